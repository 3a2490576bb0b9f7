import{a,b,c}from"./c-WXT2V73D.js";import"./c-7T7A4S23.js";import"./c-R44PCZZK.js";import"./c-RBXXW3XO.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
