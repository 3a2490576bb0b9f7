import{a,b,c}from"./c-HR7EYJKL.js";import"./c-XIPG77F2.js";import"./c-R44PCZZK.js";import"./c-N5I4A7VW.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
