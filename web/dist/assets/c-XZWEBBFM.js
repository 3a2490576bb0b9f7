import{a,b,c}from"./c-4ZKA3UEF.js";import"./c-PYEJIRKH.js";import"./c-R44PCZZK.js";import"./c-UFKPRHME.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
