import{a,b,c}from"./c-Y7D4UJMU.js";import"./c-CS2GATUK.js";import"./c-R44PCZZK.js";import"./c-3GEGL64K.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
