// Upload progress for the dashboard: posts the form with fetch and reads the streamed
// NDJSON outcome of each record. Without this script the form posts normally.
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (!form || !window.fetch || !window.TextDecoder) return;
  const box = document.getElementById("progress");
  const bar = document.getElementById("progress-bar");
  const text = document.getElementById("progress-text");
  const log = document.getElementById("progress-log");
  const msg = (box && box.dataset) || {};

  async function countItems(file) {
    // NDJSON and CSV: one record per non-empty line (less the CSV header).
    const name = file.name.toLowerCase();
    if (!/\.(ndjson|jsonl|csv)$/.test(name)) return 0;
    const lines = (await file.text()).split(/\r?\n/).filter((l) => l.trim()).length;
    return name.endsWith(".csv") ? Math.max(lines - 1, 0) : lines;
  }

  form.addEventListener("submit", async (event) => {
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    box.hidden = false;
    log.textContent = "";
    const total = await countItems(file);
    let done = 0, refused = 0;
    bar.max = total || 1;
    bar.removeAttribute("value");
    text.textContent = msg.started || "…";
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), headers: { Accept: "application/x-ndjson" },
      credentials: "same-origin",
    });
    if (!response.ok || !response.body) {
      text.textContent = (await response.text()).replace(/<[^>]+>/g, " ").trim().slice(0, 400);
      button.disabled = false;
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "", url = null;
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, cut).trim();
        buffer = buffer.slice(cut + 1);
        if (!line) continue;
        const item = JSON.parse(line);
        if (item.url) url = item.url;
        if (item.outcome) {
          done += 1;
          if (item.outcome === "refused") refused += 1;
          const li = document.createElement("li");
          li.textContent = item.outcome === "refused"
            ? `#${item.item}: ${item.title}: ${item.detail}`
            : `#${item.item}: ${item.batteryCode} (${Math.round(item.readiness * 100)} %)`;
          log.appendChild(li);
          if (total) bar.value = Math.min(done, total);
          text.textContent = `${done}${total ? " / " + total : ""} · ✗ ${refused}`;
        }
        if (item.done) {
          bar.max = 1; bar.value = 1;
          if (done > refused && url) {
            const a = document.createElement("a");
            a.href = url; a.textContent = url; a.id = "batch-link";
            text.append(" · ", a);
          }
        }
      }
      if (finished) break;
    }
    button.disabled = false;
  });
})();
