import{a,b}from"./c-GUBJOCCK.js";import"./c-C7ZUQTE2.js";import"./c-XLNHKXNE.js";import"./c-R44PCZZK.js";import"./c-CZDVAWAG.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
