import{a,b}from"./c-TH7V6OAD.js";import"./c-C7ZUQTE2.js";import"./c-H2TDHGJ3.js";import"./c-R44PCZZK.js";import"./c-DBWOF7AH.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
