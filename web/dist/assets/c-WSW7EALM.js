import{a,b,c}from"./c-Y54QWGIP.js";import"./c-SCJKZQ6I.js";import"./c-JSOI5OIE.js";import"./c-NMOERFWL.js";export{a as sessionRows,b as sessionTable,c as todayPage};
