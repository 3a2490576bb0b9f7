import{a,b,c}from"./c-3A3VBA3V.js";import"./c-U4EI3WIU.js";import"./c-JSOI5OIE.js";import"./c-YYQALA5N.js";export{a as sessionRows,b as sessionTable,c as todayPage};
