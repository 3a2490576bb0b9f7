import{a,b,c}from"./c-XJJD4RNR.js";import"./c-37V7CW4Z.js";import"./c-R44PCZZK.js";import"./c-CBU5LN2E.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
