import{a,b,c}from"./c-HILTJWLS.js";import"./c-OYPY6PQA.js";import"./c-R44PCZZK.js";import"./c-7KNWI7EY.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
