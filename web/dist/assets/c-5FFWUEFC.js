import{a,b,c}from"./c-GWQWNWKB.js";import"./c-JUEQ3WRU.js";import"./c-R44PCZZK.js";import"./c-ZQC7WFAW.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
