import{a,b,c}from"./c-Q7RGAHXH.js";import"./c-7BM47O7T.js";import"./c-R44PCZZK.js";import"./c-J6GBBD7S.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
