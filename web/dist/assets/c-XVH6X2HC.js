import{a,b,c}from"./c-DI5YF3WD.js";import"./c-RK3IU645.js";import"./c-DI7D35Z7.js";import"./c-4EA65FIF.js";export{a as sessionRows,b as sessionTable,c as todayPage};
