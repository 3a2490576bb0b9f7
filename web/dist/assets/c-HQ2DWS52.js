import{a,b,c}from"./c-WZ4CJAMM.js";import"./c-7T7A4S23.js";import"./c-R44PCZZK.js";import"./c-RBXXW3XO.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
