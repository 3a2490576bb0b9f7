import{a,b,c}from"./c-SFR2SU7W.js";import"./c-QXVBUKAQ.js";import"./c-R44PCZZK.js";import"./c-AVHUSHF5.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
