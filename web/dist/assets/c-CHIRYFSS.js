import{a,b}from"./c-WNQI26YB.js";import"./c-C7ZUQTE2.js";import"./c-AVVNDZWX.js";import"./c-R44PCZZK.js";import"./c-33EP4K7T.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
