import{a,b,c}from"./c-KQYHT6IL.js";import"./c-CZFIO7JY.js";import"./c-R44PCZZK.js";import"./c-ELQRRYD3.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
