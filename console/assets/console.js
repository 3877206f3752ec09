// The console's only script: "Add yourself as export user", "Add field", the progress bar of
// a running export (it polls the progress and reloads the page when the export has ended), and
// the wait for a Verify or Repair (it reloads the page when the check has ended); a preview's
// result takes the focus when the matching page shows one.
"use strict";

document.addEventListener("click", (event) => {
  const fill = event.target.closest("[data-fill]");
  if (fill) {
    const input = document.getElementById(fill.dataset.fill);
    input.value = fill.dataset.value;
    input.focus();
  }
  if (event.target.id === "add-field") {
    const rows = document.getElementById("extra-fields");
    const n = rows.children.length;
    const row = document.getElementById("extra-template").content.firstElementChild.cloneNode(true);
    for (const el of row.querySelectorAll("[id]")) el.id = el.id.replace(/-N$/, "-" + n);
    for (const el of row.querySelectorAll("label[for]")) el.htmlFor = el.htmlFor.replace(/-N$/, "-" + n);
    rows.appendChild(row);
    row.querySelector("input").focus();
  }
});

function formatCount(n) {
  return Math.round(n).toLocaleString("en-US");
}

async function pollProgress(section) {
  const bar = document.getElementById("progress-bar");
  const text = document.getElementById("progress-text");
  for (;;) {
    let view;
    try {
      const answer = await fetch(section.dataset.progress, { credentials: "same-origin" });
      view = await answer.json();
    } catch (_) {
      view = null;
    }
    if (view && view.running) {
      bar.max = Math.max(view.total, 1);
      bar.value = view.sent;
      let line = formatCount(view.sent) + " of " + formatCount(view.total) + " contacts sent · " +
        view.per_second.toFixed(0) + " contacts/s";
      if (view.waiting) line += " · " + view.waiting;
      text.textContent = line;
    } else if (view) {
      window.location.reload();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

async function waitForCheck(status) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    try {
      const answer = await fetch(status.dataset.verify, { credentials: "same-origin" });
      const view = await answer.json();
      if (!view.running) {
        window.location.reload();
        return;
      }
    } catch (_) {
      // The console may be restarting: keep waiting.
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("progress");
  if (section) pollProgress(section);
  // A preview of the form's choices is shown above the form: take the reader there.
  document.getElementById("preview-result")?.focus();
  const verifying = document.getElementById("verifying");
  if (verifying) waitForCheck(verifying);
});
