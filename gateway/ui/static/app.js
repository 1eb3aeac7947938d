// spackmon pages: small enhancements only; every page works without this script.
"use strict";

document.addEventListener("keydown", (e) => {
  // "/" jumps to the search box, as on many sites, unless the user is typing already.
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  const box = document.querySelector("input[type=search]");
  if (box) {
    e.preventDefault();
    box.focus();
  }
});
