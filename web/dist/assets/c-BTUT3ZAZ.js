import{a,b}from"./c-HQ5QIEB6.js";import"./c-CS2GATUK.js";import"./c-R44PCZZK.js";import"./c-3GEGL64K.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,b as documentPage};
