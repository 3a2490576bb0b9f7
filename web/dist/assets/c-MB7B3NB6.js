import{a,b,c}from"./c-U7HY7ZQ6.js";import"./c-UXOTFKGK.js";import"./c-R44PCZZK.js";import"./c-E6WI2NCY.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
