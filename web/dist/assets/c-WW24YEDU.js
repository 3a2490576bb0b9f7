import{a,b,c}from"./c-2ZMAPCRL.js";import"./c-EWUIX3YU.js";import"./c-R44PCZZK.js";import"./c-Y75HRNUY.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
