import{a,b}from"./c-YGEYGXQW.js";import"./c-OJ7XN6EI.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-RRALDMJU.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
