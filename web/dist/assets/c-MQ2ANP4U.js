import{a,b}from"./c-IKVNIQML.js";import"./c-C7ZUQTE2.js";import"./c-XBZCAGKO.js";import"./c-R44PCZZK.js";import"./c-AVHUSHF5.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
