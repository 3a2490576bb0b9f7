import{a,b}from"./c-YEAUYAD7.js";import"./c-LVSC6TPQ.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-MLT6MLUA.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
