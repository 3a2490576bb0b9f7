import{a,b,c}from"./c-SODQYFMS.js";import"./c-FZLJZAHF.js";import"./c-R44PCZZK.js";import"./c-NNIVOGI7.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
