import{a,b,c}from"./c-WFU7OKSZ.js";import"./c-I26AXTKV.js";import"./c-JSOI5OIE.js";import"./c-PULXUOGX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
