import{a,b,c}from"./c-772XZJMX.js";import"./c-FEB47TXK.js";import"./c-R44PCZZK.js";import"./c-NJIKGLE2.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
