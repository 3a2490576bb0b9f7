import{a,b,c}from"./c-UNXIPHGX.js";import"./c-6PTLB5VQ.js";import"./c-R44PCZZK.js";import"./c-CZDVAWAG.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
