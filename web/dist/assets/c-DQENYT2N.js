import{a,b,c}from"./c-WIKSIQAV.js";import"./c-6CYP7VGB.js";import"./c-R44PCZZK.js";import"./c-BKTI7A3M.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
