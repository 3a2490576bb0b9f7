import{a,b,c}from"./c-WDP7F67L.js";import"./c-3MADD7UC.js";import"./c-R44PCZZK.js";import"./c-DBWOF7AH.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
