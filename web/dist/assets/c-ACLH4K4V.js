import{a,b}from"./c-NVSVJESU.js";import"./c-PPAUCEMP.js";import"./c-MH5WDSNP.js";import"./c-R44PCZZK.js";import"./c-ZQC7WFAW.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
