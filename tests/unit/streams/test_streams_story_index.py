"""The index of a rule's open stories: it may name too much, never too little."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from rasd.models import Match, Severity, StoryArticle
from rasd.streams.similarity import hashes, signature
from rasd.streams.stories import Candidate, Limits, RuleState, StoryIndex, advance

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
# A short window and few open stories, so that stories expire and are dropped along the way.
LIMITS = Limits(
    window=timedelta(minutes=90), threshold=0.2, max_open=12, max_articles=3, max_reports=6
)
VOCABULARY = [f"word{i:03d}" for i in range(120)]
PLACES = [("iraq",), ("iraq", "kirkuk"), ("syria",), ()]


def stream(seed: int, n: int) -> list[Candidate]:
    """Reports drawn from a few topics (so that many join a story), some repeated."""
    rng = random.Random(seed)
    topics = [rng.sample(VOCABULARY, 14) for _ in range(25)]
    out = []
    for i in range(n):
        topic = rng.choice(topics)
        words = rng.sample(topic, rng.randint(4, 12)) + rng.sample(VOCABULARY, rng.randint(0, 6))
        article_id = f"a{rng.randrange(i + 1)}" if rng.random() < 0.05 else f"a{i}"
        out.append(
            Candidate(
                match=Match(
                    article_id=article_id,
                    rule_id="r",
                    rule_version="v1",
                    severity=Severity.high,
                    places=rng.choice(PLACES),
                ),
                article=StoryArticle(
                    article_id=article_id,
                    outlet=rng.choice("abc"),
                    title=article_id,
                    lang=rng.choice(["ar", "ar", "en", None]),
                ),
                seen_at=T0 + timedelta(minutes=2 * i + rng.randint(-30, 5)),
                signature=signature(words),
                numbers=rng.sample(["12", "40", "300"], rng.randint(0, 1)),
            )
        )
    return out


def decisions(state: RuleState, candidates: list[Candidate], reread: bool) -> list:
    out = []
    for c in candidates:
        if reread:  # a fresh object each time: its index is built from scratch
            state = RuleState.model_validate_json(state.model_dump_json())
        state, revisions = advance(state, c, None, LIMITS)
        out.append([(r.alert.key, r.revision, r.alert.counts) for r in revisions])
    return out


def test_an_index_kept_up_to_date_decides_as_one_built_afresh_for_every_candidate():
    for seed in range(3):
        candidates = stream(seed, 300)
        kept = decisions(RuleState(rule_id="r"), candidates, reread=False)
        afresh = decisions(RuleState(rule_id="r"), candidates, reread=True)
        assert kept == afresh
        assert sum(1 for d in kept if d and d[0][1] > 0) > 50  # many reports joined a story
        assert sum(1 for d in kept if not d) > 0  # and the repeated ones were recognised


def test_the_index_counts_at_least_the_shared_words_and_finds_every_open_article():
    state = RuleState(rule_id="r")
    candidates = stream(7, 400)
    for i, c in enumerate(candidates):
        state, _ = advance(state, c, None, LIMITS)
        index = state.index()
        words = hashes(candidates[(i * 13) % len(candidates)].signature)
        counted, common = index.shared(words)
        for story in state.stories:
            held = set().union(*(hashes(s) for s in story.signatures))
            assert counted[story.id] + common >= len(words & held)
        for other in candidates[: i + 1 : 5]:
            article_id = other.article.article_id
            expected = any(article_id in s.article_ids for s in state.stories)
            assert index.holding(article_id) == expected


def test_an_index_is_rebuilt_for_another_list_of_stories_and_once_most_stories_are_gone():
    state = RuleState(rule_id="r")
    for c in stream(3, 200):
        state, _ = advance(state, c, None, LIMITS)
    index = state.index()
    assert state.index() is index
    assert not index.tracks(RuleState.model_validate_json(state.model_dump_json()).stories)
    state.stories.append(state.stories[0].model_copy(update={"id": "added"}))
    assert state.index() is not index  # a list changed behind the index's back
    many = [s.model_copy(update={"id": f"{s.id}-{k}"}) for s in state.stories for k in range(40)]
    index = StoryIndex(many)
    index.track(many[:10])  # most expired
    assert not index.tracks(index._list)
