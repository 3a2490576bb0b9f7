import{a,b}from"./c-4MPNK225.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-ZP7GQ5YG.js";import"./c-NJIKGLE2.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
