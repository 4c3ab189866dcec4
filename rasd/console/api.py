"""The console's JSON API under /api (OpenAPI at /api/openapi.json, docs at /api/docs).

The pages' scripts call these endpoints; state-changing calls carry the X-CSRF-Token header.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rasd.configwatch import ReloadState, ReloadStates
from rasd.connectors.health import FeedHealth, FeedHealthStore
from rasd.console import charts, kafka_view
from rasd.console.alerts import Ack, AlertEntry, AlertFilter
from rasd.console.auth import User, require_user
from rasd.console.context import Console, console
from rasd.console.deadletters import NotRetryable
from rasd.console.feedback import Feedback
from rasd.console.health import OutboxDepth, outbox_depth
from rasd.console.rulefiles import Change, RuleFileInvalid, RulePathError
from rasd.console.views import fragment
from rasd.durations import parse_duration
from rasd.models import Severity, utcnow
from rasd.notify import DeadLetter, Silence, SilenceMatcher, SilenceNotFound
from rasd.outage import REDIS_DOWN
from rasd.rules import LoadResult, Matcher, parse_rules
from rasd.rules.evaluation import evaluate, parse_labels
from rasd.rules.gazetteer import default_gazetteer

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_user)])

ConsoleDep = Annotated[Console, Depends(console)]
UserDep = Annotated[User, Depends(require_user)]

# The charts count at most this many alerts of the last 7 days (streams keeps 10,000 by default).
CHART_ALERTS = 10_000

# How long one wait on the outbox lasts; between waits the stream notices a closed browser.
LIVE_BLOCK_MS = 2000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def alert_filter(
    severity: Severity | None = None,
    rule: str | None = None,
    place: str | None = None,
    outlet: str | None = None,
) -> AlertFilter:
    return AlertFilter(severity=severity, rule=rule, place=place, outlet=outlet)


FilterDep = Annotated[AlertFilter, Depends(alert_filter)]


@router.get("/alerts", summary="Recent alerts, newest first, filtered")
async def list_alerts(
    c: ConsoleDep, flt: FilterDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[AlertEntry]:
    return await c.alerts.recent(flt, limit)


@router.get(
    "/alerts/live",
    summary="Server-sent events: each new or updated alert as it reaches the outbox",
    response_class=StreamingResponse,
)
async def live_alerts(
    request: Request,
    c: ConsoleDep,
    flt: FilterDep,
    after: Annotated[str | None, Query(description="outbox entry id to start after")] = None,
) -> StreamingResponse:
    # A reconnecting browser says where it got to; a page says where its list was read.
    resume = request.headers.get("last-event-id") or after
    start = resume if resume and _is_stream_id(resume) else await c.alerts.last_outbox_id()

    async def events():
        last = start
        c.metrics.live_clients.inc()
        try:
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                sent = False
                try:
                    async for live in c.alerts.follow(last, LIVE_BLOCK_MS):
                        last = live.id
                        if not flt.accepts(live.alert):
                            continue
                        entry = await c.alerts.get(live.alert.key) or AlertEntry(alert=live.alert)
                        data = {
                            "key": live.alert.key,
                            "revision": live.revision,
                            "html": fragment("_alert_row.html", entry=entry),
                        }
                        yield f"id: {live.id}\nevent: alert\ndata: {json.dumps(data)}\n\n"
                        sent = True
                except REDIS_DOWN as exc:
                    # The browser stays connected and resumes after the last entry it got.
                    yield ": redis unreachable, retrying\n\n"
                    await c.outage.pause(exc)
                    continue
                if not sent:
                    yield ": keep-alive\n\n"
        finally:
            c.metrics.live_clients.dec()

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )


def _is_stream_id(value: str) -> bool:
    ms, _, seq = value.partition("-")
    return ms.isdigit() and seq.isdigit()


@router.get(
    "/charts/alerts-per-hour",
    summary="Alerts per hour by severity over the last 7 days (filtered as the list)",
)
async def chart_alerts_per_hour(c: ConsoleDep, flt: FilterDep) -> charts.HourlySeries:
    now = datetime.now(UTC)
    alerts = await c.alerts.since(now - timedelta(days=7), limit=CHART_ALERTS)
    return charts.alerts_per_hour((a for a in alerts if flt.accepts(a)), now)


@router.get("/charts/places", summary="Places of the alerts in view, with map coordinates")
async def chart_places(
    c: ConsoleDep, flt: FilterDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> list[charts.MapPlace]:
    entries = await c.alerts.recent(flt, limit)
    return charts.places((e.alert for e in entries), default_gazetteer())


@router.get("/charts/rule-hits", summary="Hits per rule per 6 hours over the last 7 days")
async def chart_rule_hits(c: ConsoleDep) -> charts.HourlySeries:
    now = datetime.now(UTC)
    alerts = await c.alerts.since(now - timedelta(days=7), limit=CHART_ALERTS)
    return charts.rule_hits(alerts, now)


@router.get(
    "/charts/health",
    summary="Articles per minute per feed and consumer lag per group over the last hour",
)
async def chart_health(c: ConsoleDep) -> charts.HealthCharts:
    articles, lag = await asyncio.gather(
        c.articles_per_minute.read(c.redis, 60), c.lag_per_minute.read(c.redis, 60)
    )
    return charts.HealthCharts(articles=charts.minute_chart(articles), lag=charts.minute_chart(lag))


class AlertVerdict(Strict):
    verdict: Literal["useful", "false-alarm"]
    note: str = Field("", max_length=1000)


class MissedArticle(Strict):
    article_id: str = Field(min_length=1, max_length=200)
    rule: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=1000)


@router.post(
    "/alerts/{key:path}/feedback",
    summary="Say whether an alert was useful or a false alarm (counts towards its rule's "
    "precision; the latest verdict on an alert wins)",
)
async def alert_feedback(key: str, body: AlertVerdict, c: ConsoleDep, user: UserDep) -> Feedback:
    entry = await c.alerts.get(key)
    if entry is None:
        raise HTTPException(404, f"no alert {key!r}")
    alert = entry.alert
    item = Feedback(
        verdict=body.verdict,
        rule=alert.rule,
        tags=alert.tags,
        alert=alert.key,
        articles=tuple(a.article_id for a in alert.articles),
        note=body.note,
        by=user.name,
        at=utcnow(),
    )
    await c.feedback.add(item)
    c.metrics.actions.labels("feedback").inc()
    return item


@router.post(
    "/feedback/missed",
    summary="Say that an article should have matched a rule (a label for `rasd rules eval`)",
)
async def missed_feedback(body: MissedArticle, c: ConsoleDep, user: UserDep) -> Feedback:
    rule = next(
        (
            r
            for name in c.rules.names()
            for r in parse_rules(c.rules.read(name) or "", name).rules
            if r.id == body.rule
        ),
        None,
    )
    if rule is None:
        raise HTTPException(422, f"no rule {body.rule!r}")
    item = Feedback(
        verdict="missed",
        rule=rule.id,
        tags=tuple(rule.tags),
        articles=(body.article_id,),
        note=body.note,
        by=user.name,
        at=utcnow(),
    )
    await c.feedback.add(item)
    c.metrics.actions.labels("feedback").inc()
    return item


@router.get("/feedback", summary="Feedback given in the last N days, oldest first")
async def list_feedback(
    c: ConsoleDep, days: Annotated[int, Query(ge=1, le=90)] = 30
) -> list[Feedback]:
    return await c.feedback.since(datetime.now(UTC) - timedelta(days=days))


@router.get("/alerts/{key:path}", summary="One alert with its acknowledgement")
async def get_alert(key: str, c: ConsoleDep) -> AlertEntry:
    entry = await c.alerts.get(key)
    if entry is None:
        raise HTTPException(404, f"no alert {key!r}")
    return entry


@router.post("/alerts/{key:path}/ack", summary="Acknowledge an alert")
async def ack_alert(key: str, c: ConsoleDep, user: UserDep) -> Ack:
    ack = await c.alerts.acknowledge(key, user.name)
    if ack is None:
        raise HTTPException(404, f"no alert {key!r}")
    c.metrics.actions.labels("ack").inc()
    return ack


class RuleSummary(Strict):
    id: str
    title: str
    severity: Severity
    path: str
    hits_24h: int
    hits_7d: int
    last_match: datetime | None
    # From analysts' feedback (useful / useful + false alarms); None when nothing was judged.
    precision_7d: float | None = None
    judged_7d: int = 0
    precision_30d: float | None = None
    judged_30d: int = 0


class RuleFileSummary(Strict):
    path: str
    rules: list[RuleSummary]
    errors: list[str]


@router.get("/rules", summary="Rule files, their rules and hits in the last 24 h and 7 days")
async def list_rules(c: ConsoleDep) -> list[RuleFileSummary]:
    hits = await c.rule_hits()
    measured = await c.feedback.precision()
    files = []
    for name in c.rules.names():
        result = c.rules.check(name, c.rules.read(name) or "")
        rules = []
        for rule in result.rules:
            h = hits.get(rule.id)
            p = measured.get(rule.id, {})
            p7, p30 = p.get("7d"), p.get("30d")
            rules.append(
                RuleSummary(
                    id=rule.id,
                    title=rule.title,
                    severity=rule.severity,
                    path=name,
                    hits_24h=h.last_24h if h else 0,
                    hits_7d=h.last_7d if h else 0,
                    last_match=h.last_match if h else None,
                    precision_7d=p7.value if p7 else None,
                    judged_7d=p7.judged if p7 else 0,
                    precision_30d=p30.value if p30 else None,
                    judged_30d=p30.judged if p30 else 0,
                )
            )
        files.append(
            RuleFileSummary(path=name, rules=rules, errors=[str(e) for e in result.errors])
        )
    return files


class RuleFileText(Strict):
    path: str
    text: str


class RuleDraft(Strict):
    path: str = Field(max_length=300)
    text: str = Field(max_length=256 * 1024)


class RuleProblem(Strict):
    line: int
    column: int
    message: str
    text: str


class RuleCheck(Strict):
    ok: bool
    errors: list[RuleProblem]
    rules: list[str]


def check_result(result: LoadResult) -> RuleCheck:
    return RuleCheck(
        ok=not result.errors,
        errors=[
            RuleProblem(line=e.line, column=e.column, message=e.message, text=str(e))
            for e in result.errors
        ],
        rules=[r.id for r in result.rules],
    )


def _bad_path(exc: RulePathError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.get("/rules/file/{path:path}", summary="A rule file's YAML text")
async def read_rule_file(path: str, c: ConsoleDep) -> RuleFileText:
    try:
        text = c.rules.read(path)
    except RulePathError as exc:
        raise _bad_path(exc) from None
    if text is None:
        raise HTTPException(404, f"no rule file {path!r}")
    return RuleFileText(path=path, text=text)


@router.get("/rules/schema", summary="The JSON schema of rule files (rules/schema.json)")
async def rule_schema() -> dict:
    from rasd.rules.schema import json_schema

    return json_schema()


@router.post("/rules/check", summary="Validate a draft; errors carry line and column")
async def check_rule_draft(draft: RuleDraft, c: ConsoleDep) -> RuleCheck:
    try:
        return check_result(c.rules.check(draft.path, draft.text))
    except RulePathError as exc:
        raise _bad_path(exc) from None


# Labels a dry run or a backtest accepts in one request (JSONL, as `rasd rules eval` reads).
MAX_LABELS_LENGTH = 20_000_000


class DryRunRequest(RuleDraft):
    articles: int = Field(200, ge=1, le=5000)
    labels: str | None = Field(
        None,
        max_length=MAX_LABELS_LENGTH,
        description="Optional JSONL labels (as `rasd rules eval --labels` reads them): the "
        "result then carries precision and recall on the labelled articles among those checked.",
    )


class DryRunScore(Strict):
    tag: str
    lang: str
    hits: int
    misses: int
    false_alarms: int
    side_mentions: int
    precision: float | None
    recall: float | None
    f1: float | None


class DryRunMatch(Strict):
    article_id: str
    outlet: str
    title: str
    rule_id: str
    severity: Severity
    places: list[str]
    terms: list[str]


class DryRunResult(Strict):
    check: RuleCheck
    articles_checked: int
    matches: list[DryRunMatch]
    html: str
    # With labels: the figures of `rasd rules eval` over the labelled articles checked.
    scores: list[DryRunScore] | None = None
    labelled_articles: int = 0
    label_errors: list[str] = []


@router.post("/rules/dry-run", summary="What a draft would match among the last N articles")
async def dry_run(req: DryRunRequest, c: ConsoleDep) -> DryRunResult:
    try:
        result = c.rules.check(req.path, req.text)
    except RulePathError as exc:
        raise _bad_path(exc) from None
    check = check_result(result)
    if result.errors:
        return DryRunResult(check=check, articles_checked=0, matches=[], html="")
    articles = await run_in_threadpool(kafka_view.last_articles, c.settings, req.articles)
    matcher = Matcher(result.rules)
    found = [(a, m) for a in reversed(articles) for m in matcher.match(a)]
    scores, labelled, label_errors, report = None, 0, [], None
    if req.labels:
        labels = parse_labels(req.labels, "labels", label_errors.append)
        report = evaluate(articles, labels, matcher)
        labelled = report.articles - report.unlabelled
        scores = [DryRunScore(**row) for row in report.as_dict()["scores"]]
    return DryRunResult(
        scores=scores,
        labelled_articles=labelled,
        label_errors=label_errors[:50],
        check=check,
        articles_checked=len(articles),
        matches=[
            DryRunMatch(
                article_id=a.id,
                outlet=a.outlet,
                title=a.title,
                rule_id=m.rule_id,
                severity=m.severity,
                places=list(m.places),
                terms=sorted({t.text for t in m.terms}),
            )
            for a, m in found
        ],
        html=fragment(
            "_dry_run.html",
            found=found,
            checked=len(articles),
            report=report,
            labelled=labelled,
            label_errors=label_errors,
            unmatched=_unmatched(articles, {a.id for a, _ in found}),
            draft_rules=[r.id for r in result.rules],
        ),
    )


# The dry run lists this many of the newest articles the draft did not match, each with
# "should have matched" (feedback), so a miss can be told without leaving the editor.
DRY_RUN_UNMATCHED = 20


def _unmatched(articles: list, matched: set[str]) -> list:
    return [a for a in reversed(articles) if a.id not in matched][:DRY_RUN_UNMATCHED]


@router.put("/rules/file/{path:path}", summary="Save a rule file (refused when invalid)")
async def save_rule_file(path: str, body: RuleFileText, c: ConsoleDep, user: UserDep) -> RuleCheck:
    if body.path != path:
        raise HTTPException(422, "path in the body differs from the URL")
    try:
        change = await c.rules.save(path, body.text, user.name)
    except RulePathError as exc:
        raise _bad_path(exc) from None
    except RuleFileInvalid as exc:
        raise HTTPException(422, check_result(exc.result).model_dump()) from None
    if change is not None:
        c.metrics.actions.labels("rule-save").inc()
    return check_result(c.rules.check(path, body.text))


@router.get("/rules/history/{path:path}", summary="Who changed a rule file, when, and the diff")
async def rule_history(path: str, c: ConsoleDep) -> list[Change]:
    try:
        return await c.rules.history(path)
    except RulePathError as exc:
        raise _bad_path(exc) from None


@router.get("/health/feeds", summary="Feed health records written by the connectors")
async def feeds(c: ConsoleDep) -> list[FeedHealth]:
    return await run_in_threadpool(FeedHealthStore(c.settings, c.redis_sync).all)


@router.get(
    "/health/config",
    summary="The feeds.yaml / receivers.yaml version each running connector and notifier uses, "
    "and the errors of a version it refused",
)
async def config_reloads(c: ConsoleDep) -> list[ReloadState]:
    def read() -> list[ReloadState]:
        states = ReloadStates(c.settings)
        return [s for kind in ("feeds", "receivers") for s in states.read(c.redis_sync, kind)]

    return await run_in_threadpool(read)


class Pipeline(BaseModel):
    lag: list[kafka_view.PartitionLag]
    throughput: list[kafka_view.Throughput]
    outbox: OutboxDepth


@router.get("/health/pipeline", summary="Kafka consumer lag, throughput and the outbox depth")
async def pipeline(c: ConsoleDep) -> Pipeline:
    lag, rates = await asyncio.gather(
        run_in_threadpool(kafka_view.consumer_lag, c.settings),
        run_in_threadpool(kafka_view.throughput, c.settings),
    )
    await c.record_lag(lag)
    return Pipeline(lag=lag, throughput=rates, outbox=await outbox_depth(c.settings, c.redis))


class SilenceRequest(Strict):
    matchers: list[str] = Field(min_length=1, max_length=20)
    duration: str = Field(max_length=20, examples=["2h", "1d"])
    comment: str = Field(min_length=1, max_length=1000)


@router.get("/silences", summary="Silences, newest end first (notify's store)")
async def list_silences(c: ConsoleDep) -> list[Silence]:
    return await c.silences.all()


@router.post("/silences", summary="Silence alerts matching the matchers for a while")
async def add_silence(req: SilenceRequest, c: ConsoleDep, user: UserDep) -> Silence:
    try:
        matchers = [SilenceMatcher.parse(m) for m in req.matchers]
        ends_at = utcnow() + parse_duration(req.duration)
        silence = await c.silences.add(
            matchers, ends_at=ends_at, comment=req.comment, author=user.name
        )
    except ValueError as exc:  # pydantic's ValidationError included
        raise HTTPException(422, str(exc)) from None
    c.metrics.actions.labels("silence").inc()
    return silence


@router.post("/silences/{silence_id}/expire", summary="End a silence now")
async def expire_silence(silence_id: str, c: ConsoleDep) -> Silence:
    try:
        silence = await c.silences.expire(silence_id)
    except SilenceNotFound:
        raise HTTPException(404, f"no silence {silence_id!r}") from None
    c.metrics.actions.labels("silence-expire").inc()
    return silence


class DeadLetterPage(Strict):
    count: int
    items: list[DeadLetter]


@router.get("/dead-letters", summary="Notifications notify gave up on, newest first")
async def list_dead_letters(
    c: ConsoleDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> DeadLetterPage:
    return DeadLetterPage(
        count=await c.dead_letters.count(), items=await c.dead_letters.recent(limit)
    )


@router.post("/dead-letters/{dead_id}/retry", summary="Put a dead letter's alerts back")
async def retry_dead_letter(dead_id: str, c: ConsoleDep) -> DeadLetter:
    try:
        dead = await c.dead_letter_actions.retry(dead_id)
    except NotRetryable as exc:
        raise HTTPException(409, str(exc)) from None
    if dead is None:
        raise HTTPException(404, f"no dead letter {dead_id!r}")
    c.metrics.actions.labels("dead-letter-retry").inc()
    return dead


@router.post("/dead-letters/{dead_id}/discard", summary="Drop a dead letter")
async def discard_dead_letter(dead_id: str, c: ConsoleDep) -> dict[str, bool]:
    if not await c.dead_letter_actions.discard(dead_id):
        raise HTTPException(404, f"no dead letter {dead_id!r}")
    c.metrics.actions.labels("dead-letter-discard").inc()
    return {"discarded": True}
