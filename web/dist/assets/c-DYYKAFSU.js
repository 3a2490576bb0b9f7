import{a}from"./c-MH5WDSNP.js";import"./c-Z6SMJ3PX.js";export{a as default};
