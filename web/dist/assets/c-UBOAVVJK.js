import{a,b}from"./c-X3XNUIYK.js";import"./c-C7ZUQTE2.js";import"./c-2DALXEWX.js";import"./c-R44PCZZK.js";import"./c-HYV6U7QN.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
