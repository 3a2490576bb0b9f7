import{a,b}from"./c-Y6Q4ENYM.js";import"./c-JUEQ3WRU.js";import"./c-R44PCZZK.js";import"./c-ZQC7WFAW.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,b as documentPage};
