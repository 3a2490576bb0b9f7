import{a,b,c}from"./c-NZREQ52D.js";import"./c-VJP36NUH.js";import"./c-R44PCZZK.js";import"./c-MLT6MLUA.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
