async function n(t,e){t.textContent=e}export{n as partyPage};
