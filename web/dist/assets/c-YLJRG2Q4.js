import{a,b}from"./c-HM3NVP7A.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-WLKA5TOM.js";import"./c-UFKPRHME.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
