"""The console's backtest API against real Kafka and Redis: start, progress, result, cancel."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from backtest_articles import NOW, article, many, produce
from console_server import WITHDRAWAL_RULE

pytestmark = pytest.mark.integration


def csrf(client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf}


def wait_for(client, run_id: str, until, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/api/rules/backtests/{run_id}")
        assert run.status_code == 200, run.text
        if until(run.json()):
            return run.json()
        assert time.monotonic() < deadline, f"backtest never got there: {run.json()}"
        time.sleep(0.05)


def start(client, since: str = "7d", labels: str | None = None, text: str = WITHDRAWAL_RULE):
    return client.post(
        "/api/rules/backtests",
        json={"path": "draft.yaml", "text": text, "since": since, "labels": labels},
        headers=csrf(client),
    )


def test_a_backtest_reports_matches_per_day_and_the_eval(console, client):
    produce(
        console.settings,
        [
            article("old", "Troops withdraw from an old base in Iraq", timedelta(days=10)),
            article("a1", "Troops withdraw from a northern base in Iraq", timedelta(days=2)),
            article("a2", "انسحاب القوات من قاعدة عين الأسد", timedelta(days=1)),
            article("a3", "Markets calm as talks resume", timedelta(hours=5)),
            article("a4", "The army will withdraw from an Iraq air base", timedelta(hours=1)),
        ],
    )
    labels = "\n".join(
        json.dumps({"id": i, "labels": labs, "status": "judged"})
        for i, labs in (("a1", ["MILITARY"]), ("a3", ["MILITARY"]), ("a4", []))
    )
    started = start(client, "7d", labels)
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["window"] == "7d" and run["rules"] == ["base-withdrawal"]
    done = wait_for(client, run["id"], lambda r: r["state"] != "running")
    assert done["state"] == "done", done
    # "old" is before the window.
    assert done["articles_done"] == done["articles_total"] == 4
    assert done["matched_articles"] == 3
    days = {(NOW - ago).date().isoformat() for ago in (timedelta(days=2), timedelta(days=1))}
    days.add((NOW - timedelta(hours=1)).date().isoformat())
    assert {d["day"] for d in done["per_day"]} == days
    assert sum(d["matches"]["base-withdrawal"] for d in done["per_day"]) == 3
    assert {e["article_id"] for e in done["examples"]} == {"a1", "a2", "a4"}
    (score,) = [s for s in done["scores"] if s["lang"] == "all"]
    # a1 a hit, a3 a miss, a4 a false alarm.
    assert (score["hits"], score["misses"], score["false_alarms"]) == (1, 1, 1)
    assert done["labelled_articles"] == 3
    assert "base-withdrawal" in done["html"] and "Against your labels" in done["html"]
    # The user's latest run is listed.
    (latest,) = client.get("/api/rules/backtests").json()
    assert latest["id"] == run["id"] and latest["state"] == "done"


def test_a_long_backtest_shows_progress_and_stops_when_cancelled(console, client):
    produce(console.settings, many(20_000))
    started = start(client, "1d")
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    # Progress while it runs: the console answers during the run, and the count moves.
    first = wait_for(client, run_id, lambda r: r["state"] != "running" or r["articles_done"] > 0)
    assert first["state"] == "running", first
    assert first["articles_total"] == 20_000
    wait_for(
        client,
        run_id,
        lambda r: r["state"] != "running" or r["articles_done"] > first["articles_done"],
    )
    # One backtest per user at a time.
    again = start(client, "1d")
    assert again.status_code == 409 and again.json()["detail"]["id"] == run_id
    cancelled = client.post(f"/api/rules/backtests/{run_id}/cancel", headers=csrf(client))
    assert cancelled.status_code == 200
    at_cancel = cancelled.json()["articles_done"]
    began = time.monotonic()
    stopped = wait_for(client, run_id, lambda r: r["state"] != "running", timeout=10)
    assert stopped["state"] == "cancelled", stopped
    assert time.monotonic() - began < 5
    assert stopped["articles_done"] < 20_000
    # It stopped where it was: at most a few progress steps after the cancel.
    assert stopped["articles_done"] - at_cancel <= 1_000
    assert stopped["html"] == "" and stopped["matched_articles"] is None
    # Cancelled, the user may start another.
    assert start(client, "1h").status_code == 202


def test_bad_drafts_windows_and_other_users_runs_are_refused(console, client):
    broken = start(client, text="id: x\ntitle: X\nmatch: {anyy: [y]}\n")
    assert broken.status_code == 422
    assert broken.json()["detail"]["check"]["errors"][0]["line"] == 3
    assert start(client, since="a week").status_code == 422
    assert start(client, since="0s").status_code == 422
    assert client.get("/api/rules/backtests/nope").status_code == 404
    assert client.post("/api/rules/backtests/nope/cancel", headers=csrf(client)).status_code == 404
    # State changes need the session's CSRF token.
    refused = client.post(
        "/api/rules/backtests", json={"path": "d.yaml", "text": WITHDRAWAL_RULE, "since": "1d"}
    )
    assert refused.status_code == 403


def test_the_api_is_in_the_openapi_schema(console, client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/rules/backtests"]) == {"get", "post"}
    assert "get" in paths["/api/rules/backtests/{run_id}"]
    assert "post" in paths["/api/rules/backtests/{run_id}/cancel"]
    post = paths["/api/rules/backtests"]["post"]
    assert {"202", "409", "422", "429"} <= set(post["responses"])
