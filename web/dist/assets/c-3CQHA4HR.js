import{a,b,c}from"./c-YSSIZYXM.js";import"./c-4UO3AEMK.js";import"./c-JSOI5OIE.js";import"./c-RW677EXD.js";export{a as sessionRows,b as sessionTable,c as todayPage};
