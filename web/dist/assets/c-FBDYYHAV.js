import{a,b,c}from"./c-KMDTJVR6.js";import"./c-VJP36NUH.js";import"./c-R44PCZZK.js";import"./c-MLT6MLUA.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
