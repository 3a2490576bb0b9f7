import{a,b,c}from"./c-D4IOHBB7.js";import"./c-5I5FRKRW.js";import"./c-R44PCZZK.js";import"./c-Z4TIZ3KE.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
