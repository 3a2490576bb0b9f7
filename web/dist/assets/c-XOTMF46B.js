import{a,b,c}from"./c-7WO6HIA3.js";import"./c-XIPG77F2.js";import"./c-R44PCZZK.js";import"./c-N5I4A7VW.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
