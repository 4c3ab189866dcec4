// The rule editor page (/rules/edit/..., /rules/new): CodeMirror 6 on the rule file's YAML,
// checked as you type by POST /api/rules/check (errors as inline markers and as a list beside
// it), keys completed from the rule schema, dry run and save through the API.
//
// The server renders the file into a textarea, so the page shows it without scripts; this
// replaces the textarea with the editor and keeps the textarea's value in step with it.
import { autocompletion } from "@codemirror/autocomplete";
import { yaml } from "@codemirror/lang-yaml";
import { indentUnit } from "@codemirror/language";
import { forceLinting, linter, lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorSelection } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { api, encodePath } from "./api.js";
import { rtlTerms } from "./editor/bidi.js";
import { schemaCompletion } from "./editor/schema-complete.js";

// The check's line and column (1-based) as a document range: the word at that place, or the
// place itself where there is none (end of line, empty document).
function rangeOf(doc, line, column) {
  const l = doc.line(Math.max(1, Math.min(doc.lines, line)));
  const from = l.from + Math.max(0, Math.min(l.length, column - 1));
  const word = /^[^\s,[\]{}:#]+/.exec(l.text.slice(from - l.from));
  return { from, to: from + (word ? word[0].length : 0) };
}

function diagnostics(doc, check) {
  return check.errors.map((e) => ({
    ...rangeOf(doc, e.line, e.column),
    severity: "error",
    source: "rasd rules check",
    message: e.message,
  }));
}

function start(root) {
  const path = root.dataset.path;
  const textarea = document.getElementById("rule-text");
  const errors = document.getElementById("rule-errors");
  const ok = document.getElementById("rule-ok");
  const status = document.getElementById("save-status");
  const dryRun = document.getElementById("dry-run-result");
  let view = null;

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

  // Lint as you type: the same check as `rasd rules check`, answered by the console.
  const ruleCheck = linter(
    async (v) => {
      const text = v.state.doc.toString();
      const result = await api("POST", "/api/rules/check", { path, text });
      // A later edit makes this answer stale; the next lint run replaces it.
      if (!result.ok || v.state.doc.toString() !== text) return [];
      showCheck(result.data);
      return diagnostics(v.state.doc, result.data);
    },
    { delay: 300 },
  );

  const loadSchema = async () => {
    const result = await api("GET", "/api/rules/schema");
    return result.ok ? result.data : null;
  };

  view = new EditorView({
    doc: textarea.value,
    extensions: [
      // CodeMirror writes its theme into a <style> element; the CSP admits it by this nonce.
      EditorView.cspNonce.of(document.querySelector('meta[name="csp-nonce"]')?.content ?? ""),
      basicSetup,
      yaml(),
      indentUnit.of("  "),
      EditorView.lineWrapping,
      lintGutter(),
      ruleCheck,
      autocompletion({ override: [schemaCompletion(loadSchema)] }),
      rtlTerms(),
      EditorView.contentAttributes.of({ "aria-label": "Rule YAML" }),
      EditorView.updateListener.of((update) => {
        if (!update.docChanged) return;
        textarea.value = update.state.doc.toString();
        status.textContent = "";
      }),
    ],
  });
  textarea.hidden = true;
  textarea.after(view.dom);
  view.dom.id = "rule-code";
  if (textarea.value) forceLinting(view);

  // Clicking an error in the list puts the cursor where it is.
  errors.addEventListener("click", (event) => {
    const li = event.target.closest("li[data-line]");
    if (!li) return;
    const { from } = rangeOf(view.state.doc, Number(li.dataset.line), Number(li.dataset.column));
    view.dispatch({ selection: EditorSelection.cursor(from), scrollIntoView: true });
    view.focus();
  });

  document.getElementById("dry-run").addEventListener("click", async () => {
    const n = Number(document.getElementById("dry-run-n").value) || 200;
    dryRun.replaceChildren("Running…");
    const labels = document.getElementById("dry-run-labels").value.trim();
    const result = await api("POST", "/api/rules/dry-run", {
      path,
      text: view.state.doc.toString(),
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
    // Rendered and escaped by the server (_dry_run.html).
    const template = document.createElement("template");
    template.innerHTML = result.data.html;
    dryRun.replaceChildren(template.content);
  });

  document.getElementById("save").addEventListener("click", async () => {
    status.textContent = "Saving…";
    const text = view.state.doc.toString();
    const result = await api("PUT", "/api/rules/file/" + encodePath(path), { path, text });
    if (result.ok) {
      showCheck(result.data);
      status.textContent = "Saved.";
    } else if (result.status === 422 && result.data && result.data.detail.errors) {
      showCheck(result.data.detail);
      view.dispatch(setDiagnostics(view.state, diagnostics(view.state.doc, result.data.detail)));
      status.textContent = "Not saved: fix the errors.";
    } else {
      status.textContent = "Not saved: " + JSON.stringify(result.data && result.data.detail);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("rule-editor");
  if (root) start(root);
});
