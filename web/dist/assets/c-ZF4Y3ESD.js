import{a,b}from"./c-V7JOI646.js";import"./c-C7ZUQTE2.js";import"./c-OQR5PJDB.js";import"./c-R44PCZZK.js";import"./c-3CRJVO46.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
