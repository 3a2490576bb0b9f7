import{a,b,c}from"./c-RCK7PZ63.js";import"./c-EQEWIQNV.js";import"./c-R44PCZZK.js";import"./c-RRALDMJU.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
