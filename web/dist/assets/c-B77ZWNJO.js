import{a,b,c}from"./c-U5CB6OMU.js";import"./c-U3GEH6YA.js";import"./c-JSOI5OIE.js";import"./c-YW27SF7G.js";export{a as sessionRows,b as sessionTable,c as todayPage};
