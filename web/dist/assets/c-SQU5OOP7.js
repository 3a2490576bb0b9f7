import{a,b,c}from"./c-PUMOECH7.js";import"./c-LWNQFPNQ.js";import"./c-R44PCZZK.js";import"./c-JL44AEAD.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
