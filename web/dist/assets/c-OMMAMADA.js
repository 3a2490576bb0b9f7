import{a,b}from"./c-UZDPMCNO.js";import"./c-3VOVHNJI.js";import"./c-C7ZUQTE2.js";import"./c-MGNDO3JS.js";import"./c-BRZ2XKUF.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
