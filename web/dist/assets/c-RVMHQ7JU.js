import{a,b,c}from"./c-2OBNQCPP.js";import"./c-BZHDBH5I.js";import"./c-MGNDO3JS.js";import"./c-BRZ2XKUF.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
