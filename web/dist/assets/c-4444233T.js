import{a,b}from"./c-DHKCAJ4J.js";import"./c-ZJ275SX7.js";import"./c-MH5WDSNP.js";import"./c-R44PCZZK.js";import"./c-N5I4A7VW.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
