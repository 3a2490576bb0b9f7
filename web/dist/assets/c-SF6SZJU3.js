import{a,b,c}from"./c-YUMZ67PB.js";import"./c-LIVRMMXB.js";import"./c-SNWBM6JD.js";import"./c-LOSRAMPM.js";export{a as sessionRows,b as sessionTable,c as todayPage};
