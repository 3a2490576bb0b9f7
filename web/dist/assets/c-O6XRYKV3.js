import{a,b,c}from"./c-N6GUF3DQ.js";import"./c-FEB47TXK.js";import"./c-R44PCZZK.js";import"./c-NJIKGLE2.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
