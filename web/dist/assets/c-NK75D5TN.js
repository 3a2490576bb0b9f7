import{a,b,c}from"./c-5TEV5CHM.js";import"./c-P2ZCQ64S.js";import"./c-R44PCZZK.js";import"./c-33EP4K7T.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
