import{a,b,c}from"./c-CDQOZE3W.js";import"./c-6CYP7VGB.js";import"./c-R44PCZZK.js";import"./c-BKTI7A3M.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
