import{a,b}from"./c-MDE5M566.js";import"./c-LRR3F4RY.js";import"./c-R44PCZZK.js";import"./c-HYV6U7QN.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,b as documentPage};
