import{a,b}from"./c-MICCYULK.js";import"./c-C7ZUQTE2.js";import"./c-N62R6LCV.js";import"./c-R44PCZZK.js";import"./c-3GEGL64K.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
