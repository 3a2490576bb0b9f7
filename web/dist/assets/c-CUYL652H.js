import{a,b,c}from"./c-3QVC4UB6.js";import"./c-YBSV2GE5.js";import"./c-R44PCZZK.js";import"./c-KHRSAP4F.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
