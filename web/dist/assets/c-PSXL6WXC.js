import{a,b,c}from"./c-OUWRWUKD.js";import"./c-YBSV2GE5.js";import"./c-R44PCZZK.js";import"./c-KHRSAP4F.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
