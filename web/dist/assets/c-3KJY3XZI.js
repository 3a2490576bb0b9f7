import{a,b,c}from"./c-TZUDOWVT.js";import"./c-EQEWIQNV.js";import"./c-R44PCZZK.js";import"./c-RRALDMJU.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
