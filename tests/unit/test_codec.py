"""rasd.codec reads and writes the records exactly as pydantic does.

Differential: every document here goes through both ``model.model_validate_json`` and the
codec's decoder, which must accept the same documents with the same values (types included:
a tuple is not a list, a Severity is not a str, a zone is a zone) and the same fields set, and
reject the others with pydantic's own errors; every record accepted is then written by both
``model_dump_json`` and ``rasd.codec.encode``, which must give the same bytes. The documents
are valid records, the records of tests/fixtures/streams, and variants of them: each field
removed, replaced by values of other types, or joined by an unknown one; and datetimes written
every way pydantic reads or refuses (each zone and fraction is also a datetime to write).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from itertools import product
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from rasd.codec import decode_alert, decode_article, decode_match, decoder, encode, read_article
from rasd.models import Alert, Article, Match, Severity, StoryArticle, TermHit
from rasd.streams.stories import Candidate, RuleState, Story, Window

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "streams"
T0 = datetime(2026, 11, 30, 8, 15, 42, 123456, tzinfo=UTC)
RIYADH = timezone(timedelta(hours=3))


def shape(value):
    """``value`` with its types spelled out, for an exact comparison (a time of decoding, the
    default of some fields, differs between two decodes: it is checked, then left out)."""
    if isinstance(value, BaseModel):
        now = _defaulted_now(type(value), value)
        fields = {k: "now" if k in now else shape(v) for k, v in value.__dict__.items()}
        return type(value).__name__, fields, sorted(value.model_fields_set)
    if isinstance(value, tuple | list):
        return type(value).__name__, [shape(v) for v in value]
    if isinstance(value, dict):
        return "dict", {k: shape(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return "datetime", value.isoformat(), value.utcoffset()
    if isinstance(value, Enum):
        return type(value).__name__, value.value
    return type(value).__name__, value


def _defaulted_now(model: type[BaseModel], record: BaseModel) -> set[str]:
    """The fields whose default is the time of decoding (it differs between two decodes)."""
    found = set()
    for name, info in model.model_fields.items():
        if info.default_factory is not None and name not in record.model_fields_set:
            value = getattr(record, name)
            if isinstance(value, datetime):
                assert abs(datetime.now(UTC) - value) < timedelta(minutes=1)
                found.add(name)
    return found


def outcome(parse, raw):
    try:
        record = parse(raw)
    except ValidationError as exc:
        return "rejected", exc.errors(include_url=False)
    return "accepted", record


def assert_same(model: type[BaseModel], raw: bytes | str, read=None) -> str:
    """Both decoders (the codec's, or ``read``) agree on ``raw``; returns "accepted" or
    "rejected"."""
    slow, fast = outcome(model.model_validate_json, raw), outcome(read or decoder(model), raw)
    assert slow[0] == fast[0], (raw, slow, fast)
    if slow[0] == "rejected":
        assert repr(fast[1]) == repr(slow[1]), raw  # repr: a NaN input is not equal to itself
        return "rejected"
    a, b = slow[1], fast[1]
    assert type(b) is model
    assert shape(b) == shape(a), raw  # fields in their order, values, types, fields set
    assert list(b.__dict__) == list(a.__dict__)
    assert encode(a) == a.model_dump_json().encode(), raw
    return "accepted"


# -- records -------------------------------------------------------------------------------
def article(**changes) -> Article:
    values = dict(
        id="ar-1",
        url="https://example.org/a?x=1&y=\u00e9",
        outlet="outlet",
        feed="feed-ar",
        lang="ar",
        title='قصف "مدفعي" \\ على\tالبلدة 😀',
        summary="line\nbreak \u2028 </script> \u0000 \x1f",
        body=None,
        published_at=T0.astimezone(RIYADH),
        fetched_at=T0,
    )
    return Article(**(values | changes))


def match(**changes) -> Match:
    hits = (
        TermHit(term="قصف", field="title", start=0, end=3, text="قصف"),
        TermHit(term="shell*", field="summary", start=5, end=12, text="shelled"),
    )
    values = dict(
        article_id="ar-1",
        rule_id="shelling",
        rule_version="3f2a",
        severity=Severity.high,
        tags=("attack", "ar"),
        places=("geo:kirkuk", "geo:iraq"),
        terms=hits,
        matched_at=T0,
    )
    return Match(**(values | changes))


def candidate() -> Candidate:
    return Candidate.from_match(match(), article())


def alert(**changes) -> Alert:
    values = dict(
        key="story:shelling:s1",
        kind="match",
        severity=Severity.critical,
        rule="shelling",
        title="Shelling",
        tags=("attack",),
        articles=(StoryArticle.from_article(article()), StoryArticle.from_article(article(id="b"))),
        places=("geo:kirkuk",),
        terms=match().terms,
        counts={"articles": 2},
        created_at=datetime(2026, 11, 30, 8, 15),  # naive, as pydantic keeps it
        notify=("ops",),
        cooldown_seconds=600,
        stories=(),
    )
    return Alert(**(values | changes))


RECORDS = [
    (Article, article()),
    (Article, article(url=None, body="نص", published_at=None)),
    (Match, match()),
    (Match, match(terms=(), tags=(), places=())),
    (Alert, alert()),
    (Alert, alert(kind="escalation", cooldown_seconds=None, stories=("story:a:1",))),
    (Candidate, candidate()),
    (StoryArticle, StoryArticle.from_article(article())),
]


def fixture_articles() -> list[bytes]:
    lines = (FIXTURES / "seed_story.jsonl").read_bytes().splitlines()
    return [line for line in lines if line.strip()]


# -- variants ------------------------------------------------------------------------------
REPLACEMENTS = [
    None,
    0,
    -1,
    7,
    7.0,
    7.5,
    2**70,
    True,
    "",
    "7",
    "high",
    "title",
    "2026-11-30T08:15:42Z",
    [],
    ["x"],
    [1],
    {},
    {"x": 1},
]


def variants(doc):
    """``doc`` with each field, at every depth, removed, replaced, or beside an unknown one."""
    if isinstance(doc, dict):
        yield {**doc, "unknown": 1}
        for key, value in doc.items():
            yield {k: v for k, v in doc.items() if k != key}
            for other in REPLACEMENTS:
                yield {**doc, key: other}
            for changed in variants(value):
                yield {**doc, key: changed}
    elif isinstance(doc, list) and doc:
        yield doc[:1] * 3
        for changed in variants(doc[0]):
            yield [changed, *doc[1:]]


@pytest.mark.parametrize(("model", "record"), RECORDS, ids=lambda x: getattr(x, "__name__", ""))
def test_valid_records_and_their_variants(model, record):
    raw = record.model_dump_json()
    assert assert_same(model, raw) == "accepted"
    assert assert_same(model, raw.encode()) == "accepted"
    seen = {"accepted": 0, "rejected": 0}
    for doc in variants(json.loads(raw)):
        seen[assert_same(model, json.dumps(doc, ensure_ascii=False))] += 1
    # The variants reach both sides of the fence.
    assert seen["accepted"] > 5 and seen["rejected"] > 20, seen


# The Article's readers: the codec's decode_article and the backtest's read_article.
READERS = pytest.mark.parametrize("read", [decode_article, read_article], ids=["decode", "read"])


@READERS
def test_article_variants(read):
    for record in (r for model, r in RECORDS if model is Article):
        raw = record.model_dump_json()
        assert assert_same(Article, raw, read) == "accepted"
        assert assert_same(Article, raw.encode(), read) == "accepted"
        seen = {"accepted": 0, "rejected": 0}
        for doc in variants(json.loads(raw)):
            seen[assert_same(Article, json.dumps(doc, ensure_ascii=False), read)] += 1
        assert seen["accepted"] > 5 and seen["rejected"] > 20, seen


@READERS
def test_fixture_articles(read):
    lines = fixture_articles()
    assert lines
    for raw in lines:
        assert assert_same(Article, raw, read) == "accepted"


def feed_articles() -> list[Article]:
    """The Articles the connectors make of the feed fixtures (Arabic, English, odd encodings,
    dates of every kind)."""
    from rasd.connectors.articles import Source, build_articles
    from rasd.connectors.parse import FeedError, parse

    found = []
    for path in sorted((FIXTURES.parent / "feeds").glob("*.*")):
        try:
            entries = parse(path.read_bytes()).entries
        except FeedError:
            continue
        found += build_articles(entries, Source(path.stem, "outlet"), T0)[0]
    return found


def test_read_article_on_feed_articles():
    articles = feed_articles()
    assert len(articles) > 30 and {a.lang for a in articles} >= {"ar", "en"}
    for record in articles:
        raw = record.model_dump_json().encode()
        assert assert_same(Article, raw, read_article) == "accepted"
        # The same article with its times in another zone and without one.
        doc = json.loads(raw)
        if record.published_at is not None:
            doc["published_at"] = record.published_at.astimezone(RIYADH).isoformat()
        doc["fetched_at"] = record.fetched_at.replace(tzinfo=None).isoformat()
        assert assert_same(Article, json.dumps(doc, ensure_ascii=False), read_article) == "accepted"


BROKEN = [
    b"",
    b"null",
    b"[]",
    b'"article"',
    b"{",
    b'{"id": "a"',
    b'{"id": "a"} x',
    b"\xef\xbb\xbf{}",
    b'{"id": "\xff"}',
    b'{"id": "\\ud800", "outlet": "o", "feed": "f", "lang": "en", "title": "t"}',
    b'{"id": "\\ud83d\\ude00", "outlet": "o", "feed": "f", "lang": "en", "title": "t"}',
    b'{"id": "a\x01", "outlet": "o", "feed": "f", "lang": "en", "title": "t"}',
    b'{"id": "a", "outlet": "o", "feed": "f", "lang": "en", "title": "t", "title": "u"}',
    b' \n{"id": "a", "outlet": "o", "feed": "f", "lang": "en", "title": "t"}\n ',
    b'{"id": "a", "outlet": "o", "feed": "f", "lang": "en", "title": "t", "body": NaN}',
]


@READERS
@pytest.mark.parametrize("raw", BROKEN)
def test_odd_documents(raw, read):
    assert_same(Article, raw, read)


DATES = ["2026-11-30", "2024-02-29", "2023-02-29", "2026-13-01", "0000-01-01", "0001-01-01",
         "9999-12-31", "2026-1-30", "20261130"]  # fmt: skip
SEPARATORS = ["T", "t", " ", "_", ""]
TIMES = ["08:15:42", "08:15", "08", "23:59:60", "24:00:00", "00:00:00", "8:15:42", "081542"]
FRACTIONS = ["", ".", ".1", ".12", ".123456", ".1234564", ".1234565", ".9999995", ".123456789",
             ",5"]  # fmt: skip
ZONES = ["", "Z", "z", "+00:00", "-00:00", "+03:00", "+0300", "+03", "-12:30", "+23:59",
         "+24:00", "+03:00:30", " Z"]  # fmt: skip


def datetime_texts() -> list[str]:
    every = ["".join(p) for p in product(DATES, SEPARATORS, TIMES, FRACTIONS, ZONES)]
    return sorted(random.Random(15).sample(every, 2500)) + [
        "2026-11-30T08:15:42.123456Z",
        "2026-11-30T08:15:42+03:00",
        "2026-11-30T08:15:42",
        "2026-11-30T23:59:59.9999999Z",
        "1764490542",
        "1764490542.5",
        "now",
        "",
    ]


@READERS
def test_datetimes(read):
    base = json.loads(article().model_dump_json())
    accepted = 0
    for text in datetime_texts():
        for field, value in product(("published_at", "fetched_at"), (text, {"t": text})):
            doc = {**base, field: value}
            accepted += assert_same(Article, json.dumps(doc), read) == "accepted"
    for number in (0, 1764490542, 1764490542.5, 1764490542123, -1):
        for field in ("published_at", "fetched_at"):
            assert_same(Article, json.dumps({**base, field: number}), read)
    assert accepted > 100


def test_decoders_by_name():
    assert decode_article(article().model_dump_json()) == article()
    assert decode_match(match().model_dump_json()) == match()
    assert decode_alert(alert().model_dump_json()) == alert()


# -- writing -------------------------------------------------------------------------------
def states() -> list[RuleState]:
    story = Story(
        id="s1",
        severity=Severity.low,
        title="t",
        started_at=T0,
        last_at=T0.astimezone(RIYADH),
        articles=[StoryArticle.from_article(article())],
        terms=list(match().terms),
    )
    window = Window(place="geo:iraq", start=T0, size=3600.0, stories=["s1"])
    return [
        RuleState(rule_id="r"),
        RuleState(rule_id="r", clock=T0, stories=[story], windows={"geo:iraq|x": window}),
    ]


def test_encode_is_pydantic_json_byte_for_byte():
    records = [r for _, r in RECORDS] + [article(summary="", published_at=datetime(2026, 1, 1))]
    records += [Article.model_validate_json(raw) for raw in fixture_articles()]
    for state in states():
        records += [state, *state.stories, *state.windows.values()]
    for record in records:
        assert encode(record) == record.model_dump_json().encode(), record
    for state in states():
        head = encode(state, exclude=frozenset({"stories"}))
        assert head == state.model_dump_json(exclude={"stories"}).encode()
        refs = [[s.id, s.revision] for s in state.stories]
        head = encode(state, exclude=frozenset({"stories"}), extra={"refs": refs})
        expected = {**json.loads(state.model_dump_json(exclude={"stories"})), "refs": refs}
        assert json.loads(head) == expected
        assert list(json.loads(head)) == list(expected)


def test_encode_after_changes_in_place():
    # The stories agent changes states and stories in place: their JSON follows.
    story = states()[1].stories[0]
    story.severity = Severity.critical
    story.tags += ["new"]
    assert encode(story) == story.model_dump_json().encode()


def test_encode_refuses_what_is_not_a_record_field():
    with pytest.raises(NotImplementedError):
        encode(article().model_copy(update={"title": object()}))


ENCODED = [Article, TermHit, Match, StoryArticle, Alert, Candidate, Story, Window, RuleState]


@pytest.mark.parametrize("model", ENCODED, ids=lambda m: m.__name__)
def test_encoded_models_write_their_fields_as_they_are(model):
    """encode() writes a model's __dict__: a model that renames, hides or converts a field when
    pydantic writes it would be written otherwise, so none of the models it writes does."""
    assert not model.model_computed_fields
    decorators = model.__pydantic_decorators__
    assert not decorators.field_serializers and not decorators.model_serializers
    for name, info in model.model_fields.items():
        assert info.alias is None and info.serialization_alias is None, name
        assert not info.exclude, name
