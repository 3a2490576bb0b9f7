import{a,b,c}from"./c-QAQK6K2B.js";import"./c-CS2GATUK.js";import"./c-R44PCZZK.js";import"./c-3GEGL64K.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
