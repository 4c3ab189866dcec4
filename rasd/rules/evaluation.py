"""Precision and recall of rules against hand-labelled articles (`rasd rules eval`).

Labels use the format of the team's development sets (LABELLING.md): one JSON object per line
with the article ``id``, its ``labels`` (``ATTACK``, ``WITHDRAWAL``, ...), a ``status``
(``judged`` or ``unjudged-noncandidate``) and an optional ``note``. A label class is compared with
the rule tag of the same name in lower case (``ATTACK`` -> rules tagged ``attack``). Unjudged
items count as negatives. An item whose note marks it a side mention (``ctx``, ``reaction``,
``borderline`` ...) is scored as neither a hit nor a false alarm for the classes it carries: a
desk would neither miss it nor mind it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rasd.models import Article
from rasd.rules.matcher import Matcher, NearMiss
from rasd.text import base_lang
from rasd.text.language import item_language

SIDE_MENTION_WORDS = (
    "ctx",
    "reaction",
    "context",
    "follow-up",
    "explainer",
    "implied",
    "inferred",
    "daily list",
    "roundup",
    "profile",
    "tribute",
    "first-person",
    "programme",
    "borderline",
)
STATUSES = ("judged", "unjudged-noncandidate")


class LabelError(Exception):
    """The label file cannot be read at all."""


@dataclass(frozen=True, slots=True)
class Label:
    """The judgement of one article: the tags it should get and those that may go either way."""

    article_id: str
    tags: frozenset[str]
    side: frozenset[str]
    judged: bool
    note: str = ""


def is_side_mention(note: str) -> bool:
    lowered = note.casefold()
    return any(word in lowered for word in SIDE_MENTION_WORDS)


def read_labels(path: Path, on_error: Callable[[str], None]) -> dict[str, Label]:
    """Labels by article id; bad lines are reported through ``on_error`` and skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LabelError(f"cannot read {path}: {exc}") from None
    return parse_labels(text, str(path), on_error)


def parse_labels(text: str, source: str, on_error: Callable[[str], None]) -> dict[str, Label]:
    """Labels from JSONL ``text``; errors name ``source`` and the line."""
    labels: dict[str, Label] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            label = _label(json.loads(line))
        except (ValueError, TypeError) as exc:
            on_error(f"{source}:{number}: skipped: {exc}")
            continue
        if label.article_id in labels:
            # A feed may list one item twice; the same judgement twice is no conflict.
            if labels[label.article_id] != label:
                on_error(f"{source}:{number}: skipped: id {label.article_id!r} labelled twice")
            continue
        labels[label.article_id] = label
    return labels


def _label(item: object) -> Label:
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    article_id = item.get("id")
    if not isinstance(article_id, str) or not article_id:
        raise ValueError("'id' must be a non-empty string")
    classes = item.get("labels", [])
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValueError("'labels' must be a list of strings")
    status = item.get("status", "judged")
    if status not in STATUSES:
        raise ValueError(f"'status' must be one of {', '.join(STATUSES)}, not {status!r}")
    note = item.get("note") or ""
    if not isinstance(note, str):
        raise ValueError("'note' must be a string")
    tags = frozenset(c.strip().lower() for c in classes if c.strip())
    return Label(
        article_id=article_id,
        tags=tags,
        side=tags if is_side_mention(note) else frozenset(),
        judged=status == "judged",
        note=note,
    )


@dataclass(slots=True)
class Score:
    """Counts of one tag in one language."""

    hits: int = 0
    misses: int = 0
    false_alarms: int = 0
    side: int = 0

    @property
    def precision(self) -> float | None:
        found = self.hits + self.false_alarms
        return self.hits / found if found else None

    @property
    def recall(self) -> float | None:
        expected = self.hits + self.misses
        return self.hits / expected if expected else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "side_mentions": self.side,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A miss or a false alarm, with what fired or nearly fired."""

    article_id: str
    title: str
    lang: str
    tag: str
    fired: tuple[str, ...]
    near: tuple[NearMiss, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.article_id,
            "title": self.title,
            "lang": self.lang,
            "tag": self.tag,
            "fired": list(self.fired),
            "near": [n.as_dict() for n in self.near],
        }


@dataclass(slots=True)
class Report:
    tags: tuple[str, ...]
    scores: dict[tuple[str, str], Score] = field(default_factory=dict)
    misses: list[Finding] = field(default_factory=list)
    false_alarms: list[Finding] = field(default_factory=list)
    articles: int = 0
    unlabelled: int = 0
    labels_without_article: int = 0

    def score(self, tag: str, lang: str = "all") -> Score:
        return self.scores.setdefault((tag, lang), Score())

    @property
    def langs(self) -> list[str]:
        return sorted({lang for _, lang in self.scores if lang != "all"})

    def as_dict(self) -> dict[str, object]:
        return {
            "articles": self.articles,
            "unlabelled_articles": self.unlabelled,
            "labels_without_article": self.labels_without_article,
            "scores": [
                {"tag": tag, "lang": lang, **score.as_dict()}
                for (tag, lang), score in sorted(self.scores.items())
            ],
            "misses": [f.as_dict() for f in self.misses],
            "false_alarms": [f.as_dict() for f in self.false_alarms],
        }


def evaluate(
    articles: Iterable[Article],
    labels: dict[str, Label],
    matcher: Matcher,
    tags: Iterable[str] | None = None,
) -> Report:
    """Score every labelled article; ``tags`` defaults to the labelled tags the rules carry."""
    rule_tags = {tag for rule in matcher.rules for tag in rule.tags}
    if tags is None:
        labelled = {tag for label in labels.values() for tag in label.tags}
        chosen = sorted(labelled & rule_tags)
    else:
        chosen = sorted(dict.fromkeys(t.lower() for t in tags))
    report = Report(tags=tuple(chosen))
    seen: set[str] = set()
    for article in articles:
        report.articles += 1
        label = labels.get(article.id)
        if label is None:
            report.unlabelled += 1
            continue
        seen.add(article.id)
        lang = base_lang(article.lang) or item_language(article.title, article.summary) or "und"
        fired_by_tag: dict[str, list[str]] = defaultdict(list)
        for match in matcher.match(article):
            for tag in match.tags:
                fired_by_tag[tag].append(match.rule_id)
        near: list[NearMiss] | None = None
        for tag in chosen:
            fired = tuple(fired_by_tag.get(tag, ()))
            expected = tag in label.tags
            for scope in ("all", lang):
                score = report.score(tag, scope)
                if tag in label.side:
                    score.side += 1
                elif expected and fired:
                    score.hits += 1
                elif expected:
                    score.misses += 1
                elif fired:
                    score.false_alarms += 1
            if tag in label.side or expected == bool(fired):
                continue
            if near is None:
                near = matcher.near_misses(article)
            finding = Finding(
                article_id=article.id,
                title=article.title or article.summary[:160],
                lang=lang,
                tag=tag,
                fired=fired,
                near=tuple(n for n in near if tag in n.tags),
            )
            (report.misses if expected else report.false_alarms).append(finding)
    report.labels_without_article = len(labels.keys() - seen)
    return report


def _figure(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def format_report(report: Report, *, findings: bool = True, limit: int | None = None) -> str:
    """The report as a person reads it: a table of figures, then misses and false alarms."""
    lines = [
        f"{report.articles} article(s), {report.articles - report.unlabelled} labelled"
        + (
            f", {report.labels_without_article} label(s) with no article in the input"
            if report.labels_without_article
            else ""
        ),
        "",
        f"{'tag':<14} {'lang':<5} {'P':>5} {'R':>5} {'F1':>5} {'hits':>5} {'miss':>5} "
        f"{'false':>5} {'side':>5}",
    ]
    for tag in report.tags:
        for lang in ("all", *report.langs):
            if (tag, lang) not in report.scores:
                continue
            s = report.scores[(tag, lang)]
            lines.append(
                f"{tag:<14} {lang:<5} {_figure(s.precision):>5} {_figure(s.recall):>5} "
                f"{_figure(s.f1):>5} {s.hits:>5} {s.misses:>5} {s.false_alarms:>5} {s.side:>5}"
            )
    if findings:
        for heading, items in (("misses", report.misses), ("false alarms", report.false_alarms)):
            shown = items if limit is None else items[:limit]
            lines += ["", f"## {heading} ({len(items)})"]
            for f in shown:
                lines.append(f"- [{f.tag}/{f.lang}] {f.article_id}: {_one_line(f.title)}")
                if f.fired:
                    lines.append(f"    fired: {', '.join(f.fired)}")
                for n in f.near:
                    lines.append(f"    nearly: {n.describe()}")
            if limit is not None and len(items) > limit:
                lines.append(f"  ... {len(items) - limit} more (--json for all)")
    return "\n".join(lines)


def _one_line(text: str, width: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
