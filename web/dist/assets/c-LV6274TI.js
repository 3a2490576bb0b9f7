import{a,b,c}from"./c-LDHCU6RG.js";import"./c-DBVVVJBS.js";import"./c-R44PCZZK.js";import"./c-H3PX5CYC.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
