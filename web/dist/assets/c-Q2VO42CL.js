import{a,b,c}from"./c-SV3FDUYG.js";import"./c-ST6N7YTP.js";import"./c-JSOI5OIE.js";import"./c-C76Z3QY4.js";export{a as sessionRows,b as sessionTable,c as todayPage};
