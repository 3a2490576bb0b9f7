import{a,b,c}from"./c-SVFLRSYC.js";import"./c-DBVVVJBS.js";import"./c-R44PCZZK.js";import"./c-H3PX5CYC.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
