import{a,b,c}from"./c-3BDSSSM2.js";import"./c-OCVSDAND.js";import"./c-R44PCZZK.js";import"./c-3CRJVO46.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
