import{a,b}from"./c-RRPRZJJX.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-HAB6W4S2.js";import"./c-ELQRRYD3.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
