import{a,b,c}from"./c-HVN5HQYZ.js";import"./c-4XWBT3YJ.js";import"./c-JSOI5OIE.js";import"./c-RBDCCGD4.js";export{a as sessionRows,b as sessionTable,c as todayPage};
