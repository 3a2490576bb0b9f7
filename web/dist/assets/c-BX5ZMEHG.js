import{a,b,c}from"./c-MGXPP6EK.js";import"./c-AOCMPNA6.js";import"./c-JSOI5OIE.js";import"./c-DQZDDYYH.js";export{a as sessionRows,b as sessionTable,c as todayPage};
