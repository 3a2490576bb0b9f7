import{a,b}from"./c-FNHQWJ46.js";import"./c-U5SRNYOU.js";import"./c-MH5WDSNP.js";import"./c-R44PCZZK.js";import"./c-CBU5LN2E.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
