import{a,b,c}from"./c-CSB3HIHS.js";import"./c-CFWC3Y2A.js";import"./c-MGNDO3JS.js";import"./c-2BN7FPKX.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
