import{a,b,c}from"./c-MJDLUFWT.js";import"./c-BKCQ4PYT.js";import"./c-R44PCZZK.js";import"./c-7QXI742F.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
