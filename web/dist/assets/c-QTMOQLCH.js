import{a,b}from"./c-SKRXZF6X.js";import"./c-PPAUCEMP.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-ZQC7WFAW.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
