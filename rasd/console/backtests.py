"""Backtests the console runs for its users: a draft over the retained articles of a window.

Each run is `rasd.rules.backtest.run_backtest` on a thread of its own, so the CPU-bound matching
never holds the event loop (the GIL is handed over every few milliseconds). Runs are bounded:
one running per user, ``max_running`` at once in the console, at most ``max_articles`` read (the
newest of the window). A run lives in the memory of the console process that started it; each
user's latest run (and its result) is kept until that user starts another. Cancelling sets an
event that the reader looks at between polls and the matcher every 250 articles.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from rasd.rules.backtest import Backtest, Cancelled, Span, run_backtest
from rasd.rules.evaluation import Label
from rasd.rules.schema import Rule
from rasd.settings import Settings

log = logging.getLogger("rasd.console")

# The newest this many articles of a window at most: a few minutes of matching (about 1 ms each).
MAX_ARTICLES = 200_000
MAX_RUNNING = 2

State = Literal["running", "done", "cancelled", "failed"]


class Busy(Exception):
    """A backtest cannot start now: the user has one running, or the console is at its cap."""

    def __init__(self, message: str, running: BacktestRun | None = None) -> None:
        super().__init__(message)
        self.running = running


@dataclass
class BacktestRun:
    """One backtest: where it got to and, once done, what it found. Written by its thread,
    read by the API (single attribute writes; a reader sees a consistent enough picture)."""

    id: str
    user: str
    window: str
    since: datetime
    rules: list[str]
    labels: dict[str, Label] | None
    label_errors: list[str]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    state: State = "running"
    total: int | None = None
    available: int | None = None
    done: int = 0
    finished_at: datetime | None = None
    seconds: float | None = None
    error: str | None = None
    result: Backtest | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"


class BacktestRuns:
    """The console's backtests, by user."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_articles: int = MAX_ARTICLES,
        max_running: int = MAX_RUNNING,
    ) -> None:
        self._settings = settings
        self.max_articles = max_articles
        self.max_running = max_running
        self._latest: dict[str, BacktestRun] = {}
        self._lock = threading.Lock()

    def start(
        self,
        user: str,
        rules: list[Rule],
        window: str,
        since: datetime,
        labels: dict[str, Label] | None = None,
        label_errors: list[str] | None = None,
    ) -> BacktestRun:
        with self._lock:
            mine = self._latest.get(user)
            if mine is not None and mine.running:
                raise Busy("you have a backtest running; cancel it first", mine)
            running = sum(r.running for r in self._latest.values())
            if running >= self.max_running:
                raise Busy(f"{running} backtests are running in this console; try again soon")
            run = BacktestRun(
                id=uuid.uuid4().hex,
                user=user,
                window=window,
                since=since,
                rules=[r.id for r in rules],
                labels=labels,
                label_errors=label_errors or [],
            )
            run.thread = threading.Thread(
                target=self._run, args=(run, rules), name=f"rasd-backtest-{run.id[:8]}"
            )
            self._latest[user] = run
        run.thread.start()
        return run

    def get(self, user: str, run_id: str) -> BacktestRun | None:
        run = self._latest.get(user)
        return run if run is not None and run.id == run_id else None

    def latest(self, user: str) -> BacktestRun | None:
        return self._latest.get(user)

    def cancel(self, user: str, run_id: str) -> BacktestRun | None:
        run = self.get(user, run_id)
        if run is not None:
            run.cancel.set()
        return run

    def close(self, timeout: float = 10.0) -> None:
        """Cancel every run and wait for its thread (the console is stopping)."""
        runs = list(self._latest.values())
        for run in runs:
            run.cancel.set()
        deadline = time.monotonic() + timeout
        for run in runs:
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, run: BacktestRun, rules: list[Rule]) -> None:
        began = time.perf_counter()

        def on_span(span: Span) -> None:
            run.total, run.available = span.total, span.available

        def on_progress(done: int) -> None:
            run.done = done

        try:
            run.result = run_backtest(
                self._settings,
                rules,
                run.since,
                run.labels,
                limit=self.max_articles,
                on_span=on_span,
                on_progress=on_progress,
                cancel=run.cancel,
            )
            state: State = "done"
        except Cancelled:
            state = "cancelled"
        except Exception as exc:  # Kafka away, a missing topic: the user is told why
            log.warning("backtest %s failed: %s", run.id, exc)
            run.error = str(exc) or type(exc).__name__
            state = "failed"
        run.seconds = time.perf_counter() - began
        run.finished_at = datetime.now(UTC)
        run.state = state
