import{a,b}from"./c-6BPULO7W.js";import"./c-555OK5QX.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-H3PX5CYC.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
