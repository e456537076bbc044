// On a phone the list of chapters would stand before the text: fold it. A file of its own, not
// inline, so that the pages' Content-Security-Policy can allow scripts from the server alone.
if (matchMedia("(max-width: 60rem)").matches) document.currentScript.parentElement.querySelector("details").open = false;
