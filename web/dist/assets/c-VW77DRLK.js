import{a,b,c}from"./c-IBC5YTZT.js";import"./c-3MADD7UC.js";import"./c-R44PCZZK.js";import"./c-DBWOF7AH.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
