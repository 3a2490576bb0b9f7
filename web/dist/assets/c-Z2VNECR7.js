import{a,b}from"./c-MXT7GB2G.js";import"./c-C7ZUQTE2.js";import"./c-GOUGL6OD.js";import"./c-R44PCZZK.js";import"./c-E6WI2NCY.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
