import{a,b}from"./c-FOQOFUU7.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-DD3QVWK4.js";import"./c-NNIVOGI7.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
