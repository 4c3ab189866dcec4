// rasd console: live alerts and API-backed forms on every page (bundled by esbuild into
// static/bundles/console.js; the rule editor is its own bundle). Loaded as a file (the CSP
// forbids inline script). Server HTML fragments are rendered and escaped by the server;
// everything else is put on the page with textContent.
import { api } from "./api.js";

// Live alerts: the server pushes each new or updated alert as a rendered table row.
function liveAlerts() {
  const rows = document.getElementById("alert-rows");
  const status = document.getElementById("live-status");
  if (!rows || !rows.dataset.live || !window.EventSource) return;
  const source = new EventSource(rows.dataset.live);
  const setState = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };
  source.addEventListener("open", () => setState("live", "live"));
  source.addEventListener("error", () => setState("reconnecting", "reconnecting…"));
  source.addEventListener("alert", (event) => {
    const message = JSON.parse(event.data);
    const template = document.createElement("template");
    template.innerHTML = message.html.trim();
    const row = template.content.firstElementChild;
    row.classList.add("new");
    const existing = Array.from(rows.children).find((r) => r.dataset.key === message.key);
    if (existing) existing.remove();
    rows.prepend(row);
    const empty = document.getElementById("no-alerts");
    if (empty) empty.remove();
  });
  window.addEventListener("pagehide", () => source.close());
}

// Forms marked data-api="json" post their fields as JSON to their action (the API). One
// listener on the document, so forms the page inserts later (the dry run's) work too.
function apiForms() {
  document.addEventListener("submit", async (event) => {
    const form = event.target.closest('form[data-api="json"]');
    if (!form) return;
    event.preventDefault();
    const body = {};
    // The submitter's name=value too: a form may offer several answers (useful / false alarm).
    new FormData(form, event.submitter).forEach((value, name) => {
      if (name === "csrf_token") return;
      if (name.endsWith("[]")) {
        const key = name.slice(0, -2);
        (body[key] = body[key] || []).push(value);
      } else {
        body[name] = value;
      }
    });
    const result = await api(form.dataset.method || "POST", form.action, body);
    const out = form.querySelector(".form-status");
    if (result.ok) {
      if (form.dataset.then === "reload") window.location.reload();
      else if (out) out.textContent = "Done.";
    } else if (out) {
      out.textContent = "Failed: " + JSON.stringify(result.data && result.data.detail);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  liveAlerts();
  apiForms();
});
