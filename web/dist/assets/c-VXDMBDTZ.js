import{a,b}from"./c-5PAFTLH3.js";import"./c-C7ZUQTE2.js";import"./c-WO6NTBY4.js";import"./c-R44PCZZK.js";import"./c-7KNWI7EY.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
