import{a,b,c}from"./c-PSIQA5WQ.js";import"./c-AEZSGI27.js";import"./c-R44PCZZK.js";import"./c-USUKOZ6E.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
