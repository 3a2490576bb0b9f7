import{a,b}from"./c-G5LJEB7F.js";import"./c-CFWC3Y2A.js";import"./c-MGNDO3JS.js";import"./c-2BN7FPKX.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,b as documentPage};
