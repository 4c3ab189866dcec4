"""The dry run over a time window: start a backtest of a draft, follow it, cancel it (/api).

    POST /api/rules/backtests                  start (202); 409 while yours runs
    GET  /api/rules/backtests                  your latest run (a list of zero or one)
    GET  /api/rules/backtests/{id}             progress, then the result
    POST /api/rules/backtests/{id}/cancel      stop it

The work is `rasd.console.backtests`; this module only turns it into HTTP and JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from rasd.console.api import (
    MAX_LABELS_LENGTH,
    ConsoleDep,
    DryRunScore,
    RuleCheck,
    RuleDraft,
    Strict,
    UserDep,
    _bad_path,
    check_result,
)
from rasd.console.auth import require_user
from rasd.console.backtests import BacktestRun, BacktestRuns, Busy
from rasd.console.rulefiles import RulePathError
from rasd.console.views import fragment
from rasd.durations import parse_duration
from rasd.rules.evaluation import parse_labels

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_user)])


def backtest_runs(c: ConsoleDep) -> BacktestRuns:
    return c.backtests


RunsDep = Annotated[BacktestRuns, Depends(backtest_runs)]


class BacktestRequest(RuleDraft):
    since: str = Field(
        "7d",
        max_length=20,
        examples=["7d", "24h", "30d"],
        description="How far back (a duration): the window read from the retained articles "
        "topic, which keeps RASD_ARTICLES_RETENTION_DAYS.",
    )
    labels: str | None = Field(
        None,
        max_length=MAX_LABELS_LENGTH,
        description="Optional JSONL labels (as `rasd rules eval --labels` reads them): the "
        "result then carries precision and recall on the labelled articles of the window.",
    )


class BacktestDay(Strict):
    day: str = Field(description="UTC date of publication (else of fetching)")
    matches: dict[str, int] = Field(description="rule id -> articles it matched that day")


class BacktestExample(Strict):
    rule_id: str
    article_id: str
    title: str


class BacktestStatus(Strict):
    id: str
    state: str = Field(description="running, done, cancelled or failed")
    window: str
    since: datetime
    rules: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float | None = None
    articles_total: int | None = Field(
        None, description="articles the run reads (known once it has looked at the topic)"
    )
    articles_available: int | None = Field(
        None, description="articles in the window; more than articles_total when capped"
    )
    articles_done: int = 0
    max_articles: int
    error: str | None = None
    # Once done:
    matched_articles: int | None = None
    per_day: list[BacktestDay] = []
    examples: list[BacktestExample] = []
    scores: list[DryRunScore] | None = None
    labelled_articles: int = 0
    label_errors: list[str] = []
    html: str = Field("", description="the result rendered for the rule editor (escaped)")


class BacktestRefused(Strict):
    check: RuleCheck


def status(run: BacktestRun, runs: BacktestRuns) -> BacktestStatus:
    found = run.result
    report = found.report if found is not None else None
    labelled = report.articles - report.unlabelled if report is not None else 0
    out = BacktestStatus(
        id=run.id,
        state=run.state,
        window=run.window,
        since=run.since,
        rules=run.rules,
        started_at=run.started_at,
        finished_at=run.finished_at,
        seconds=round(run.seconds, 3) if run.seconds is not None else None,
        articles_total=run.total,
        articles_available=run.available,
        articles_done=run.done,
        max_articles=runs.max_articles,
        error=run.error,
        label_errors=run.label_errors[:50],
    )
    if found is None:
        return out
    out.matched_articles = found.matched_articles
    out.per_day = [
        BacktestDay(day=day, matches=dict(counts)) for day, counts in sorted(found.per_day.items())
    ]
    out.examples = [
        BacktestExample(rule_id=rule, article_id=article_id, title=title)
        for rule, shown in found.examples.items()
        for article_id, title in shown
    ]
    if report is not None:
        out.scores = [DryRunScore(**row) for row in report.as_dict()["scores"]]
        out.labelled_articles = labelled
    out.html = fragment(
        "_backtest.html",
        run=run,
        found=found,
        rules=sorted({r for counts in found.per_day.values() for r in counts}),
        report=report,
        labelled=labelled,
        checked=found.articles,
        label_errors=run.label_errors,
    )
    return out


@router.post(
    "/rules/backtests",
    status_code=202,
    summary="Start a backtest: the draft over the retained articles of a window, in the "
    "background (one running per user; the newest max_articles of the window at most)",
    responses={
        409: {"description": "a backtest of yours is running (its id in the detail)"},
        422: {"description": "the draft has errors (the check), or a bad window"},
        429: {"description": "the console runs as many backtests as it allows"},
    },
)
async def start_backtest(
    req: BacktestRequest, c: ConsoleDep, user: UserDep, runs: RunsDep
) -> BacktestStatus:
    try:
        result = c.rules.check(req.path, req.text)
    except RulePathError as exc:
        raise _bad_path(exc) from None
    if result.errors:
        raise HTTPException(422, BacktestRefused(check=check_result(result)).model_dump())
    try:
        window = parse_duration(req.since)
    except ValueError as exc:
        raise HTTPException(422, f"since: {exc}") from None
    if window.total_seconds() <= 0:
        raise HTTPException(422, "since: the window must be longer than nothing")
    label_errors: list[str] = []
    labels = (
        await run_in_threadpool(parse_labels, req.labels, "labels", label_errors.append)
        if req.labels
        else None
    )
    try:
        run = runs.start(
            user.name,
            result.rules,
            req.since,
            datetime.now(UTC) - window,
            labels,
            label_errors,
        )
    except Busy as exc:
        if exc.running is not None:
            raise HTTPException(409, {"message": str(exc), "id": exc.running.id}) from None
        raise HTTPException(429, str(exc)) from None
    c.metrics.actions.labels("backtest").inc()
    return status(run, runs)


@router.get("/rules/backtests", summary="Your latest backtest (none, or one: running or done)")
async def list_backtests(user: UserDep, runs: RunsDep) -> list[BacktestStatus]:
    run = runs.latest(user.name)
    return [status(run, runs)] if run is not None else []


@router.get("/rules/backtests/{run_id}", summary="A backtest's progress, then its result")
async def get_backtest(run_id: str, user: UserDep, runs: RunsDep) -> BacktestStatus:
    run = runs.get(user.name, run_id)
    if run is None:
        raise HTTPException(404, f"no backtest {run_id!r} of yours")
    return status(run, runs)


@router.post(
    "/rules/backtests/{run_id}/cancel",
    summary="Cancel a backtest: it stops reading within a poll (a quarter of a second) or 250 "
    "articles",
)
async def cancel_backtest(run_id: str, user: UserDep, runs: RunsDep) -> BacktestStatus:
    run = runs.cancel(user.name, run_id)
    if run is None:
        raise HTTPException(404, f"no backtest {run_id!r} of yours")
    return status(run, runs)
