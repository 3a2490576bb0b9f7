import{a,b}from"./c-MVDGQV3R.js";import"./c-GHP4D5ZC.js";import"./c-C7ZUQTE2.js";import"./c-R44PCZZK.js";import"./c-Z4TIZ3KE.js";import"./c-Z6SMJ3PX.js";export{a as docsDrawer,b as partyDocsPage};
