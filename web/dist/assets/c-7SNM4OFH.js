import{a,b}from"./c-I4M4KOWQ.js";import"./c-IBFGGHY4.js";import"./c-MH5WDSNP.js";import"./c-R44PCZZK.js";import"./c-AOK6RYBL.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
