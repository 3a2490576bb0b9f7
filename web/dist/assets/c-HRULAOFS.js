import{a,b,c}from"./c-WIIY7A5C.js";import"./c-AEZSGI27.js";import"./c-R44PCZZK.js";import"./c-USUKOZ6E.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
