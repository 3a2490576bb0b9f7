async function o(e){e.textContent="console"}export{o as consolePage};
