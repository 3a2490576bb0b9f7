import{a,b}from"./c-JCENXX63.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-SKAU7AQB.js";import"./c-RBXXW3XO.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
