// The rule editor's backtest: the draft over the retained articles of a window (24h, 7d, 30d
// or any duration), run by the console in the background. Start, follow the progress, cancel:
// POST /api/rules/backtests, GET /api/rules/backtests/{id} every half second, POST .../cancel.
// The result is HTML rendered and escaped by the server (_backtest.html).
import { api } from "./api.js";

const POLL_MS = 500;

function count(n) {
  return Number(n).toLocaleString("en-GB");
}

function describe(run) {
  const of = run.articles_total == null ? "" : " of " + count(run.articles_total);
  const capped =
    run.articles_available != null && run.articles_available > run.articles_total
      ? " (the newest " + count(run.articles_total) + " of " + count(run.articles_available) + ")"
      : "";
  switch (run.state) {
    case "running":
      return "Backtest over the last " + run.window + ": " + count(run.articles_done) + of + " articles" + capped + "…";
    case "done":
      return "Backtest over the last " + run.window + ": " + count(run.articles_done) + " articles in " + run.seconds.toFixed(1) + " s" + capped + ".";
    case "cancelled":
      return "Cancelled after " + count(run.articles_done) + of + " articles.";
    default:
      return "Backtest failed: " + (run.error || "unknown error");
  }
}

function start(root) {
  const path = root.dataset.path;
  const draft = document.getElementById("rule-text"); // the editor keeps it in step
  const since = document.getElementById("backtest-since");
  const labels = document.getElementById("dry-run-labels");
  const startButton = document.getElementById("backtest-start");
  const cancelButton = document.getElementById("backtest-cancel");
  const status = document.getElementById("backtest-status");
  const progress = document.getElementById("backtest-progress");
  const result = document.getElementById("backtest-result");
  let current = null;

  function show(run) {
    current = run;
    const running = run.state === "running";
    startButton.disabled = running;
    cancelButton.hidden = !running;
    cancelButton.disabled = false;
    progress.hidden = !running;
    if (run.articles_total) {
      progress.max = Math.max(1, run.articles_total);
      progress.value = run.articles_done;
    } else {
      progress.removeAttribute("value"); // not known yet: an indeterminate bar
    }
    status.className = "backtest-" + run.state;
    status.textContent = describe(run);
    if (run.state === "done") {
      const template = document.createElement("template");
      template.innerHTML = run.html;
      result.replaceChildren(template.content);
    } else if (!running) {
      result.replaceChildren();
    }
  }

  async function follow() {
    if (!current || current.state !== "running") return;
    const answer = await api("GET", "/api/rules/backtests/" + encodeURIComponent(current.id));
    if (!answer.ok) {
      status.textContent = "Lost the backtest: " + JSON.stringify(answer.data && answer.data.detail);
      startButton.disabled = false;
      cancelButton.hidden = true;
      return;
    }
    show(answer.data);
    if (answer.data.state === "running") setTimeout(follow, POLL_MS);
  }

  startButton.addEventListener("click", async () => {
    startButton.disabled = true;
    status.className = "";
    status.textContent = "Starting…";
    result.replaceChildren();
    const answer = await api("POST", "/api/rules/backtests", {
      path,
      text: draft.value,
      since: since.value.trim() || "7d",
      labels: labels && labels.value.trim() ? labels.value.trim() : null,
    });
    if (answer.ok) {
      show(answer.data);
      setTimeout(follow, POLL_MS);
      return;
    }
    startButton.disabled = false;
    const detail = answer.data && answer.data.detail;
    if (answer.status === 409 && detail && detail.id) {
      // Yours, started from another tab: follow that one.
      current = { id: detail.id, state: "running" };
      status.textContent = detail.message;
      follow();
    } else if (answer.status === 422 && detail && detail.check) {
      status.textContent = "Fix the errors first.";
    } else {
      status.textContent = "Backtest refused: " + (typeof detail === "string" ? detail : JSON.stringify(detail));
    }
  });

  cancelButton.addEventListener("click", async () => {
    if (!current) return;
    cancelButton.disabled = true;
    status.textContent = "Cancelling…";
    const answer = await api("POST", "/api/rules/backtests/" + encodeURIComponent(current.id) + "/cancel");
    if (answer.ok) show(answer.data);
    // The run notices within a poll; follow() shows it stopped.
  });

  // A backtest still running from before a reload goes on being shown.
  api("GET", "/api/rules/backtests").then((answer) => {
    if (answer.ok && answer.data.length && answer.data[0].state === "running" && !current) {
      show(answer.data[0]);
      setTimeout(follow, POLL_MS);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("backtest");
  if (root) start(root);
});
