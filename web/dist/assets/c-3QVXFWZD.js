import{a,b,c}from"./c-RHVLJ56V.js";import"./c-PJI6TTJL.js";import"./c-JSOI5OIE.js";import"./c-T6S5KDGW.js";export{a as sessionRows,b as sessionTable,c as todayPage};
