import{a,b,c}from"./c-6WO7V4NF.js";import"./c-RK3IU645.js";import"./c-JSOI5OIE.js";import"./c-4EA65FIF.js";export{a as sessionRows,b as sessionTable,c as todayPage};
