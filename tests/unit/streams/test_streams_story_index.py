"""The index of a rule's open stories: it may name too much, never too little."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from rasd.models import Match, Severity, StoryArticle
from rasd.rules import default_gazetteer
from rasd.streams.similarity import hashes, signature, similarity
from rasd.streams.stories import Candidate, Limits, RuleState, Story, StoryIndex, advance
from rasd.text import base_lang

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
# A short window and few open stories, so that stories expire and are dropped along the way.
LIMITS = Limits(
    window=timedelta(minutes=90), threshold=0.2, max_open=12, max_articles=3, max_reports=6
)
VOCABULARY = [f"word{i:03d}" for i in range(120)]
KINDS = {p.id: p.kind for p in default_gazetteer().places}
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
                sites=rng.sample(["site-a", "site-b"], rng.randint(0, 1)),
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


def compared_one_by_one(stories: list[Story], c: Candidate, limits: Limits) -> Story | None:
    """The story a candidate joins, by comparing it with every open story (no index)."""
    best, best_score = None, 0.0
    for story in stories:
        if abs(c.seen_at - story.last_at) > limits.window:
            continue
        if len(story.article_ids) >= limits.max_reports:
            continue
        if c.match.places and story.places and set(c.match.places).isdisjoint(story.places):
            continue
        score = None
        for i, other in enumerate(story.signatures):
            same = story.signature_outlets[i] == c.article.outlet
            needed = limits.same_outlet_threshold if same else limits.threshold
            value = similarity(c.signature, other)
            if value >= needed and (score is None or value > score):
                score = value
        lang = base_lang(c.article.lang)
        if score is None and lang and all(base_lang(k) != lang for k in story.langs):
            below = {p for p in c.match.places if KINDS.get(p) != "country"}
            if set(c.sites) & set(story.sites) or (
                below & set(story.places) and set(c.numbers) & set(story.numbers)
            ):
                score = limits.threshold
        if score is not None and score > best_score:
            best, best_score = story, score
    return best


def test_a_candidate_joins_the_story_it_joins_when_compared_with_every_story():
    for seed in range(3):
        state = RuleState(rule_id="r")
        joined = 0
        for c in stream(seed, 300):
            clock = max(state.clock, c.seen_at) if state.clock else c.seen_at
            open_stories = [s for s in state.stories if s.last_at >= clock - LIMITS.window]
            expected = compared_one_by_one(open_stories, c, LIMITS)
            known = any(c.article.article_id in s.article_ids for s in open_stories)
            state, revisions = advance(state, c, None, LIMITS)
            if known:
                assert revisions == []
                continue
            key = revisions[0].alert.key
            if expected is None:
                assert key == f"story:r:{c.article.article_id}"
            else:
                assert key == f"story:r:{expected.id}"
                joined += 1
        assert joined > 50


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


def test_the_index_gives_the_open_stories_in_the_lists_order_as_the_lists_objects():
    for reread_every in (0, 37):
        state = RuleState(rule_id="r")
        gone: set[str] = set()
        for i, c in enumerate(stream(11, 400)):
            if reread_every and i % reread_every == 0:
                state = RuleState.model_validate_json(state.model_dump_json())
            before = {s.id for s in state.stories}
            state, _ = advance(state, c, None, LIMITS)
            gone |= before - {s.id for s in state.stories}
            index = state.index()
            ids = [s.id for s in state.stories]
            # most of them (a pass over the list), a few (sorted), none
            for some in (set(ids), set(ids[1::2]) | gone, set(ids[::7]) | gone, set(ids[-2:])):
                found = index.in_order(some)
                expected = [s for s in state.stories if s.id in some]
                assert [id(s) for s in found] == [id(s) for s in expected]
        assert gone  # stories expired or were dropped along the way


def test_a_story_out_of_reach_has_no_signature_at_the_threshold():
    state = RuleState(rule_id="r")
    candidates = stream(5, 400)
    out_of_reach = 0
    for i, c in enumerate(candidates):
        state, _ = advance(state, c, None, LIMITS)
        index = state.index()
        other = candidates[(i * 17) % len(candidates)]
        words = hashes(other.signature)
        counted, common = index.shared(words)
        for story in state.stories:
            if index.within_reach(story.id, len(words), counted[story.id] + common, 0.2):
                continue
            out_of_reach += 1
            assert all(similarity(other.signature, s) < 0.2 for s in story.signatures)
    assert out_of_reach > 1000  # the bound rules out most pairs of this stream
