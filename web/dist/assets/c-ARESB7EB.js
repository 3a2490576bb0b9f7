import{a,b}from"./c-EZQ2R4QO.js";import"./c-C7ZUQTE2.js";import"./c-DWGN65FA.js";import"./c-R44PCZZK.js";import"./c-JL44AEAD.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
