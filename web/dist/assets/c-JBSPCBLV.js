import{a,b,c}from"./c-WN4XRTGR.js";import"./c-7BM47O7T.js";import"./c-R44PCZZK.js";import"./c-J6GBBD7S.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
