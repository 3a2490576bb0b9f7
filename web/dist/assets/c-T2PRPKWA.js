import{a,b}from"./c-GJTU3CO5.js";import"./c-C7ZUQTE2.js";import"./c-C6UIL7SN.js";import"./c-R44PCZZK.js";import"./c-FMNP7WKC.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
