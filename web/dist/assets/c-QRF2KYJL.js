import{a,b,c}from"./c-4WYKOJDF.js";import"./c-FS6AFRHB.js";import"./c-JSOI5OIE.js";import"./c-7FT6AIHT.js";export{a as sessionRows,b as sessionTable,c as todayPage};
