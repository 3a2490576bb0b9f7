import{a,b}from"./c-F4V5SHOT.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-VI3DX3GX.js";import"./c-USUKOZ6E.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
