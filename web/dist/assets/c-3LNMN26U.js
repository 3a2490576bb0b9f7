import{a,b,c}from"./c-XOE2EOLF.js";import"./c-EWUIX3YU.js";import"./c-R44PCZZK.js";import"./c-Y75HRNUY.js";import"./c-Z6SMJ3PX.js";export{a as docsSection,c as documentPage,b as newDocumentPage};
