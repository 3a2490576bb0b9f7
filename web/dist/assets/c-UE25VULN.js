import{a,b}from"./c-PECEYVF2.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-YC6PMXTB.js";import"./c-BKTI7A3M.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
