import{a,b}from"./c-2XAIFFA3.js";import"./c-QROPS3M7.js";import"./c-R44PCZZK.js";import"./c-ZQC7WFAW.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,b as documentPage};
