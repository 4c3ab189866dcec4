// rasd console: live alerts, API-backed forms and the rule editor. Loaded as a file (the CSP
// forbids inline script). Server HTML fragments are rendered and escaped by the server;
// everything else is put on the page with textContent.
"use strict";

(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  async function api(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  function encodePath(path) {
    return path.split("/").map(encodeURIComponent).join("/");
  }

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

  function ruleEditor() {
    const editor = document.getElementById("rule-editor");
    if (!editor) return;
    const path = editor.dataset.path;
    const text = document.getElementById("rule-text");
    const errors = document.getElementById("rule-errors");
    const ok = document.getElementById("rule-ok");
    const status = document.getElementById("save-status");
    const dryRun = document.getElementById("dry-run-result");

    function showCheck(check) {
      errors.replaceChildren();
      for (const e of check.errors) {
        const li = document.createElement("li");
        li.className = "error";
        li.dataset.line = e.line;
        li.dataset.column = e.column;
        const pos = document.createElement("span");
        pos.className = "pos";
        pos.textContent = "line " + e.line + ", column " + e.column;
        li.append(pos, " " + e.message);
        errors.append(li);
      }
      ok.hidden = check.errors.length > 0;
      ok.textContent = "Valid: " + check.rules.join(", ");
    }

    // Clicking an error puts the cursor where it is.
    errors.addEventListener("click", (event) => {
      const li = event.target.closest("li[data-line]");
      if (!li) return;
      const lines = text.value.split("\n");
      const line = Math.max(1, Math.min(lines.length, Number(li.dataset.line)));
      let offset = 0;
      for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
      offset += Math.max(0, Number(li.dataset.column) - 1);
      text.focus();
      text.setSelectionRange(offset, offset);
      const lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 20;
      text.scrollTop = Math.max(0, (line - 3) * lineHeight);
    });

    let timer = null;
    let sequence = 0;
    async function check() {
      const mine = ++sequence;
      const result = await api("POST", "/api/rules/check", { path: path, text: text.value });
      if (mine === sequence && result.ok) showCheck(result.data);
    }
    text.addEventListener("input", () => {
      status.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });

    document.getElementById("dry-run").addEventListener("click", async () => {
      const n = Number(document.getElementById("dry-run-n").value) || 200;
      dryRun.replaceChildren("Running…");
      const labels = document.getElementById("dry-run-labels").value.trim();
      const result = await api("POST", "/api/rules/dry-run", {
        path: path,
        text: text.value,
        articles: n,
        labels: labels || null,
      });
      if (!result.ok) {
        dryRun.replaceChildren("Dry run failed: " + JSON.stringify(result.data));
        return;
      }
      showCheck(result.data.check);
      if (!result.data.check.ok) {
        dryRun.replaceChildren("Fix the errors first.");
        return;
      }
      const template = document.createElement("template");
      template.innerHTML = result.data.html;
      dryRun.replaceChildren(template.content);
    });

    document.getElementById("save").addEventListener("click", async () => {
      status.textContent = "Saving…";
      const result = await api("PUT", "/api/rules/file/" + encodePath(path), {
        path: path,
        text: text.value,
      });
      if (result.ok) {
        showCheck(result.data);
        status.textContent = "Saved.";
      } else if (result.status === 422 && result.data && result.data.detail.errors) {
        showCheck(result.data.detail);
        status.textContent = "Not saved: fix the errors.";
      } else {
        status.textContent = "Not saved: " + JSON.stringify(result.data && result.data.detail);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    liveAlerts();
    apiForms();
    ruleEditor();
  });
})();
