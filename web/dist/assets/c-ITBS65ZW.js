import{a,b,c}from"./c-MQZWU7TK.js";import"./c-QXVBUKAQ.js";import"./c-R44PCZZK.js";import"./c-AVHUSHF5.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
