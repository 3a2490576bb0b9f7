import{a,b}from"./c-2HBBDCQ7.js";import"./c-OEMRG5BA.js";import"./c-C7ZUQTE2.js";import"./c-MGNDO3JS.js";import"./c-2BN7FPKX.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
