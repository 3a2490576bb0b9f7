import{a,b,c}from"./c-ERZSOLRH.js";import"./c-RSDQ3PL2.js";import"./c-R44PCZZK.js";import"./c-AOK6RYBL.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
