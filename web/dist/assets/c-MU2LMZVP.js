import{a,b,c}from"./c-SK2TLJJ2.js";import"./c-YHNAWBM5.js";import"./c-R44PCZZK.js";import"./c-FMNP7WKC.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
