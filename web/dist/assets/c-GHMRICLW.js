import{a,b,c}from"./c-YM2XLSJV.js";import"./c-BKCQ4PYT.js";import"./c-R44PCZZK.js";import"./c-7QXI742F.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
