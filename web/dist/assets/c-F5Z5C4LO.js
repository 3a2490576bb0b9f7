import{a,b,c}from"./c-KAOFK7SF.js";import"./c-PYEJIRKH.js";import"./c-R44PCZZK.js";import"./c-UFKPRHME.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
