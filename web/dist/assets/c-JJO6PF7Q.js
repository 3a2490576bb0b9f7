import{a,b,c}from"./c-LXJGGXPZ.js";import"./c-7BYYBICU.js";import"./c-R44PCZZK.js";import"./c-ONCU7227.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
