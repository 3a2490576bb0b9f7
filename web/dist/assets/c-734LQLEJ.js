import{a,b,c}from"./c-6ABQHR4X.js";import"./c-OCVSDAND.js";import"./c-R44PCZZK.js";import"./c-3CRJVO46.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
