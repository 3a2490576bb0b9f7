import{a,b,c}from"./c-ANTJM6AU.js";import"./c-LRR3F4RY.js";import"./c-R44PCZZK.js";import"./c-HYV6U7QN.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
