import{a,b,c}from"./c-NKL5EJNP.js";import"./c-QROPS3M7.js";import"./c-R44PCZZK.js";import"./c-ZQC7WFAW.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
