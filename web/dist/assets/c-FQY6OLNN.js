import{a,b,c}from"./c-QFI64TT5.js";import"./c-7BYYBICU.js";import"./c-R44PCZZK.js";import"./c-ONCU7227.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
