import{a,b,c}from"./c-22QMNGNT.js";import"./c-OKCC3XLV.js";import"./c-JSOI5OIE.js";import"./c-ZMQTILLT.js";export{a as sessionRows,b as sessionTable,c as todayPage};
