// Shows a print button on the label page; printing works from the browser menu anyway.
"use strict";
document.querySelectorAll(".print-button").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
