import{a,b,c}from"./c-ZS5CBCNP.js";import"./c-BZHDBH5I.js";import"./c-MGNDO3JS.js";import"./c-BRZ2XKUF.js";import"./c-Z6SMJ3PX.js";export{a as sessionRows,b as sessionTable,c as todayPage};
