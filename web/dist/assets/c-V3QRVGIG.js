import{a,b,c}from"./c-7YOQ4FP4.js";import"./c-I6F5S4KL.js";import"./c-JSOI5OIE.js";import"./c-T6S5KDGW.js";export{a as sessionRows,b as sessionTable,c as todayPage};
