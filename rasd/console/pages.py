"""The console's HTML pages. They read through the same services as the API; their buttons and
forms call the API (frontend/src/console.js), so every action exists once."""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from rasd.console import api
from rasd.console.auth import require_user
from rasd.console.rulefiles import RulePathError
from rasd.console.views import render
from rasd.models import Severity, utcnow

router = APIRouter(
    dependencies=[Depends(require_user)],
    default_response_class=HTMLResponse,
    include_in_schema=False,
)

ConsoleDep, UserDep = api.ConsoleDep, api.UserDep


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/alerts", status_code=303)


@router.get("/alerts")
async def alerts_page(request: Request, c: ConsoleDep, user: UserDep, flt: api.FilterDep):
    # The live stream starts where the outbox stood before the list was read: nothing missed.
    after = await c.alerts.last_outbox_id()
    entries = await c.alerts.recent(flt, 200)
    params = {k: v for k, v in flt.model_dump(mode="json").items() if v}
    return render(
        request,
        "alerts.html",
        user=user,
        entries=entries,
        flt=flt,
        severities=list(Severity),
        live_url="/api/alerts/live?" + urlencode({**params, "after": after}),
        chart_query=urlencode(params),
    )


@router.get("/alerts/{key:path}")
async def alert_page(key: str, request: Request, c: ConsoleDep, user: UserDep):
    entry = await c.alerts.get(key)
    if entry is None:
        raise HTTPException(404, f"no alert {key!r}")
    silenced_by = [s for s in await c.silences.active() if s.matches(entry.alert)]
    mine = [f for f in await c.feedback.since() if f.alert == key]
    return render(
        request,
        "alert.html",
        user=user,
        entry=entry,
        silenced_by=silenced_by,
        feedback=mine[-5:],
        rule_ids=sorted({r.id for f in await api.list_rules(c) for r in f.rules}),
    )


@router.get("/silences")
async def silences_page(request: Request, c: ConsoleDep, user: UserDep):
    return render(
        request, "silences.html", user=user, silences=await c.silences.all(), now=utcnow()
    )


@router.get("/rules")
async def rules_page(request: Request, c: ConsoleDep, user: UserDep):
    return render(request, "rules.html", user=user, files=await api.list_rules(c))


@router.get("/rules/new")
async def new_rule(path: str) -> RedirectResponse:
    return RedirectResponse(f"/rules/edit/{quote(path)}", status_code=303)


@router.get("/rules/edit/{path:path}")
async def rule_edit_page(path: str, request: Request, c: ConsoleDep, user: UserDep):
    try:
        text = c.rules.read(path)
        check = api.check_result(c.rules.check(path, text)) if text is not None else None
    except RulePathError as exc:
        raise HTTPException(404, str(exc)) from None
    return render(
        request,
        "rule_edit.html",
        user=user,
        path=path,
        text=text or "",
        is_new=text is None,
        check=check,
    )


@router.get("/rules/history/{path:path}")
async def rule_history_page(path: str, request: Request, c: ConsoleDep, user: UserDep):
    try:
        changes = await c.rules.history(path)
    except RulePathError as exc:
        raise HTTPException(404, str(exc)) from None
    return render(request, "rule_history.html", user=user, path=path, changes=changes)


@router.get("/health")
async def health_page(request: Request, c: ConsoleDep, user: UserDep):
    feeds, pipeline, dead, reloads = await asyncio.gather(
        api.feeds(c), api.pipeline(c), api.list_dead_letters(c, 50), api.config_reloads(c)
    )
    return render(
        request, "health.html", user=user, feeds=feeds, pipeline=pipeline, dead=dead,
        reloads=reloads,
    )  # fmt: skip


@router.get("/api/docs")
async def api_docs(request: Request, user: UserDep):
    return render(request, "api_docs.html", user=user, spec=request.app.openapi())
