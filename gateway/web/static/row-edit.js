// Inline row editing in the mapping editor: saves a row with fetch and swaps in the
// re-rendered row with its validation messages. Without it each form posts normally.
"use strict";
(function () {
  if (!window.fetch) return;
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.classList || !form.classList.contains("row-form")) return;
    event.preventDefault();
    const body = form.closest("tbody");
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), headers: { "X-Fragment": "row" },
      credentials: "same-origin",
    });
    const html = await response.text();
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.querySelector("tbody");
    if (!fresh) { form.submit(); return; }
    body.replaceWith(fresh);
    const status = fresh.querySelector(".problems, .check.ok, .notice");
    const summary = fresh.querySelector("summary");
    if (summary) summary.focus();
    if (status) status.setAttribute("role", "status");
  });
})();
