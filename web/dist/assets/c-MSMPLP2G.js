import{a}from"./c-C7ZUQTE2.js";import"./c-Z6SMJ3PX.js";export{a as default};
