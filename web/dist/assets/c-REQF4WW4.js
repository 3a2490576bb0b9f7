import{a,b,c}from"./c-NXNKAS5D.js";import"./c-UXOTFKGK.js";import"./c-R44PCZZK.js";import"./c-E6WI2NCY.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
