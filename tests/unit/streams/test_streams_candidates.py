"""The candidates topic's records (rasd.streams.candidates) and the match stage's use of them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import TypeAdapter, ValidationError

from rasd.codec import arrays, encode
from rasd.models import Match
from rasd.rules import Matcher, parse_rules
from rasd.settings import Settings
from rasd.streams.candidates import RECORD_BYTES, read, records
from rasd.streams.config import StreamsSettings
from rasd.streams.matching import STAGE_CPU, STEPS, CpuSteps, MatchStage
from rasd.streams.stories import Candidate
from tests.unit.streams.test_streams_grouping import K1_AR, K1_EN, QAYYARAH_EN, RULES, article

# Faust's producer refuses a larger record (producer_max_request_size), the broker about as much.
KAFKA_MESSAGE_MAX = 1_000_000


@pytest.fixture(scope="module")
def matcher():
    return Matcher(parse_rules(RULES, "inline.yaml").rules)


def candidates_of(matcher, reports) -> list[Candidate]:
    return [Candidate.from_match(m, a) for a in reports for m in matcher.match(a)]


def reports(n: int) -> list:
    """``n`` reports of the withdrawal rule, one a minute, each with its own id."""
    texts = [K1_AR, K1_EN, QAYYARAH_EN]
    langs = ["ar", "en", "en"]
    return [
        article(f"r{i}", texts[i % 3], langs[i % 3], f"outlet{i % 5}", minutes=i) for i in range(n)
    ]


def test_a_record_is_the_json_array_of_its_candidates_in_order(matcher):
    candidates = candidates_of(matcher, reports(6))
    (value,) = records([encode(c) for c in candidates])
    # The array pydantic itself writes for the list, and read back as pydantic reads each one.
    assert value == TypeAdapter(list[Candidate]).dump_json(candidates)
    assert [encode(c) for c in read(value)] == [encode(c) for c in candidates]


def test_a_record_of_before_is_one_candidate(matcher):
    (candidate,) = candidates_of(matcher, reports(1))
    (old,) = read(encode(candidate))
    (new,) = read(records([encode(candidate)])[0])
    assert encode(old) == encode(new) == encode(candidate)


def test_a_broad_rules_candidates_of_a_large_batch_are_split_under_the_record_limit(matcher):
    # 2,000 articles of one batch, all matching one rule.
    candidates = candidates_of(matcher, reports(2000))
    encoded = [encode(c) for c in candidates]
    values = records(encoded)
    assert len(values) > 1
    assert all(len(v) <= RECORD_BYTES for v in values)
    assert RECORD_BYTES < KAFKA_MESSAGE_MAX // 4
    assert sum(len(v) for v in values) > RECORD_BYTES  # no record left out
    assert [encode(c) for v in values for c in read(v)] == encoded


def test_the_split_keeps_each_array_at_the_limit_and_the_order():
    values = [b'{"n":%d}' % i for i in range(100)]
    for limit in (1, 9, 10, 17, 18, 50, 10_000):
        chunks = arrays(values, limit)
        longest_alone = max(len(v) for v in values) + 2
        assert all(len(c) <= max(limit, longest_alone) for c in chunks)
        # Each array but the last is full: one more value would have gone over the limit.
        for chunk, after in zip(chunks, chunks[1:], strict=False):
            assert len(chunk) + len(after.split(b",")[0].lstrip(b"[").rstrip(b"]")) + 1 > limit
        assert b"".join(c[1:-1] + b"," for c in chunks) == b",".join(values) + b","
    assert arrays([], 100) == []
    assert arrays([b'"a long value"'], 4) == [b'["a long value"]']


def test_a_record_that_is_not_candidates_is_refused(matcher):
    (candidate,) = candidates_of(matcher, reports(1))
    for bad in (b"[" + encode(candidate) + b',{"x":1}]', b'{"x":1}', b"[1]", b"["):
        with pytest.raises(ValidationError):
            read(bad)


def stage_outputs(matcher, articles) -> list[tuple[str, bytes | None, bytes]]:
    stage = MatchStage(
        Settings(),
        StreamsSettings(),
        SimpleNamespace(matcher=matcher),
        producer=lambda: None,
        candidates="candidates",
    )
    fetched = [
        SimpleNamespace(topic="rasd.articles", partition=0, offset=i, key=b"k", value=value)
        for i, value in enumerate(articles)
    ]
    return stage._outputs(fetched, CpuSteps(STAGE_CPU, STEPS))


def test_the_stage_sends_each_match_and_one_record_per_rule_with_its_candidates_in_order(
    matcher,
):
    bombing = article("b1", ("Car bomb as the coalition hands over K1 base", ""), "en", "x", 3)
    stream = [*reports(4)[:2], bombing, *reports(4)[2:]]
    stream = [a.model_copy(update={"id": f"{a.id}-{i}"}) for i, a in enumerate(stream)]
    values = [encode(a) for a in stream] + [b"not an article"]
    outputs = stage_outputs(matcher, values)

    matches = [(k, Match.model_validate_json(v)) for t, k, v in outputs if t == "rasd.matches"]
    expected = [m for a in stream for m in matcher.match(a)]
    assert [(k.decode(), m.article_id) for k, m in matches] == [
        (m.rule_id, m.article_id) for m in expected
    ]
    assert [t for t, _, _ in outputs].count("rasd.dead-letters") == 1
    per_rule = {
        key.decode(): [c.article.article_id for c in read(value)]
        for topic, key, value in outputs
        if topic == "candidates"
    }
    by_rule: dict[str, list[str]] = {}
    for m in expected:
        by_rule.setdefault(m.rule_id, []).append(m.article_id)
    assert per_rule == by_rule
    assert by_rule == {
        "withdrawal": ["r0-0", "r1-1", "b1-2", "r2-3", "r3-4"],
        "bombing": ["b1-2"],
    }
    # The candidates are those the stage wrote one per record before, the clock's fields aside.
    (record,) = [v for t, k, v in outputs if t == "candidates" and k == b"bombing"]
    (sent,) = read(record)
    ours = Candidate.from_match([m for m in expected if m.rule_id == "bombing"][0], stream[2])
    assert sent.model_copy(update={"match": ours.match}) == ours
    assert sent.match.model_copy(update={"matched_at": ours.match.matched_at}) == ours.match
