import{a,b}from"./c-74VWC3F5.js";import"./c-P2ZCQ64S.js";import"./c-R44PCZZK.js";import"./c-33EP4K7T.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,b as documentPage};
