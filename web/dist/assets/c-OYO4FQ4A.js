import{a,b}from"./c-CBGDK22Z.js";import"./c-YDYRM2PJ.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-7QXI742F.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
