import{a,b,c}from"./c-TN36GRBV.js";import"./c-37V7CW4Z.js";import"./c-R44PCZZK.js";import"./c-CBU5LN2E.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
