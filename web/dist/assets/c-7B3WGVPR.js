import{a,b,c}from"./c-S6GYB4BI.js";import"./c-YHNAWBM5.js";import"./c-R44PCZZK.js";import"./c-FMNP7WKC.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
