import{a,b}from"./c-DDP4U47F.js";import"./c-R3ZW6PQR.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-ONCU7227.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
