import{a,b,c}from"./c-3PSIG7S6.js";import"./c-CZFIO7JY.js";import"./c-R44PCZZK.js";import"./c-ELQRRYD3.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
