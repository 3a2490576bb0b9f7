import{a,b}from"./c-S35DKLXU.js";import"./c-C7ZUQTE2.js";import"./c-USVYLAYA.js";import"./c-R44PCZZK.js";import"./c-J6GBBD7S.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
