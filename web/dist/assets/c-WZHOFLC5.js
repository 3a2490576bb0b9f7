import{a,b}from"./c-HBVABMWS.js";import"./c-C5F5G7RK.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-Y75HRNUY.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
