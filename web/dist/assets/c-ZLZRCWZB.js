import{a,b,c}from"./c-EASE6HIT.js";import"./c-5I5FRKRW.js";import"./c-R44PCZZK.js";import"./c-Z4TIZ3KE.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
