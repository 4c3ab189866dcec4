"""The console's backtest runs: one per user, a cap per console, cancel, failure, close.

The backtest itself is replaced by a stand-in that runs until cancelled (its reading of Kafka
is tested in tests/integration/console/test_backtests_api.py)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from rasd.console import backtests
from rasd.console.backtests import BacktestRuns, Busy
from rasd.rules import parse_rules
from rasd.rules.backtest import Backtest, Cancelled
from rasd.settings import Settings

RULES = parse_rules("id: r\ntitle: R\nmatch: {any: [x]}\n", "r.yaml").rules
SINCE = datetime(2026, 11, 24, tzinfo=UTC)


def until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.fixture
def runs(monkeypatch):
    calls = []

    def stand_in(settings, rules, since, labels, *, limit, on_span, on_progress, cancel):
        calls.append(limit)
        if rules[0].id == "broken":
            raise LookupError("topic rasd.articles does not exist")
        on_span(backtests.Span(since, 10, {0: (0, 10)}, available=30))
        on_progress(4)
        if not cancel.wait(5):
            return Backtest(since=since, articles=10)
        raise Cancelled

    monkeypatch.setattr(backtests, "run_backtest", stand_in)
    found = BacktestRuns(Settings(), max_articles=10, max_running=2)
    found.calls = calls
    yield found
    found.close()


def test_one_run_per_user_and_a_cap_per_console(runs):
    first = runs.start("ana", RULES, "7d", SINCE)
    until(lambda: first.done == 4)
    assert (first.total, first.available, runs.calls) == (10, 30, [10])
    with pytest.raises(Busy) as mine:
        runs.start("ana", RULES, "7d", SINCE)
    assert mine.value.running is first
    second = runs.start("bo", RULES, "1d", SINCE)
    with pytest.raises(Busy) as full:
        runs.start("cy", RULES, "1d", SINCE)
    assert full.value.running is None
    runs.cancel("ana", first.id)
    until(lambda: first.state == "cancelled")
    assert first.finished_at is not None and first.result is None
    # Ana's run ended: she, and so the console, has room again.
    again = runs.start("ana", RULES, "1d", SINCE)
    assert runs.latest("ana") is again and runs.get("ana", first.id) is None
    # Nobody reaches another user's run.
    assert runs.get("ana", second.id) is None and runs.cancel("ana", second.id) is None


def test_a_failed_run_says_why(runs):
    broken = parse_rules("id: broken\ntitle: B\nmatch: {any: [x]}\n", "b.yaml").rules
    run = runs.start("ana", broken, "7d", SINCE)
    until(lambda: not run.running)
    assert run.state == "failed" and "does not exist" in run.error


def test_closing_cancels_and_waits_for_every_run(runs):
    run = runs.start("ana", RULES, "7d", SINCE)
    until(lambda: run.done == 4)
    runs.close()
    assert run.state == "cancelled"
    assert not run.thread.is_alive()
    assert not any(t.name.startswith("rasd-backtest") for t in threading.enumerate())
