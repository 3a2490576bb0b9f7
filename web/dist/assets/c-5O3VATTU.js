import{a,b}from"./c-6XUFDWK4.js";import"./c-EE3AH2FL.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-KHRSAP4F.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
