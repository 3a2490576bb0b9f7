import{a,b,c}from"./c-3TT3RYSV.js";import"./c-LWNQFPNQ.js";import"./c-R44PCZZK.js";import"./c-JL44AEAD.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
