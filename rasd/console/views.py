"""Jinja2 templates (autoescaped) and the filters the pages use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from rasd.console.highlight import highlight, highlight_paragraphs, hit_spans, text_dir
from rasd.models import TermHit

HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
)


def _ago(when: datetime | None) -> str:
    if when is None:
        return "never"
    seconds = int((datetime.now(UTC) - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def _utc(when: datetime | None) -> str:
    return "-" if when is None else when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def marked(text: str, field: str, hits: tuple[TermHit, ...] | list[TermHit]) -> Markup:
    """``text`` escaped, with the hits on ``field`` in <mark>."""
    return highlight(text, hit_spans(text, field, hits))


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered as links: a feed's ``javascript:`` URL stays text."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def marked_paragraphs(
    text: str, field: str, hits: tuple[TermHit, ...] | list[TermHit]
) -> list[Markup]:
    """``marked`` split into paragraphs that each get their own direction (dir="auto")."""
    return highlight_paragraphs(text, hit_spans(text, field, hits))


templates.env.filters.update(ago=_ago, utc=_utc, text_dir=text_dir, safe_url=safe_url)
templates.env.globals.update(marked=marked, marked_paragraphs=marked_paragraphs)


def render(request: Request, name: str, status_code: int = 200, **context):
    context.setdefault("csp_nonce", getattr(request.state, "csp_nonce", ""))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def fragment(name: str, **context) -> str:
    """A partial page (a row, a result list) rendered for the API and the live stream."""
    return templates.get_template(name).render(**context)
