"""Story grouping and escalation as a pure state machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rasd.models import Match, Severity, StoryArticle
from rasd.streams.similarity import signature
from rasd.streams.stories import Candidate, Limits, RuleState, advance

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
LIMITS = Limits(window=timedelta(hours=6), threshold=0.25, max_open=50, max_articles=3)


@dataclass(frozen=True)
class Esc:
    window: timedelta
    threshold: int
    severity: Severity = Severity.critical


@dataclass(frozen=True)
class R:
    id: str = "withdrawal"
    title: str = "Troop withdrawal"
    escalate: Esc | None = None
    notify: tuple[str, ...] = ()
    cooldown: timedelta | None = None


def candidate(
    article_id,
    words,
    minutes=0,
    places=("iraq",),
    outlet="a",
    rule="withdrawal",
    lang=None,
    sites=(),
):
    return Candidate(
        match=Match(
            article_id=article_id,
            rule_id=rule,
            rule_version="v1",
            severity=Severity.high,
            places=places,
        ),
        article=StoryArticle(
            article_id=article_id, outlet=outlet, title=f"title {article_id}", lang=lang
        ),
        seen_at=T0 + timedelta(minutes=minutes),
        signature=signature(words.split()),
        sites=list(sites),
    )


KIRKUK_AR = "التحالف يسحب قواته قاعدة كركوك الجوية تسليم المعدات للقوات العراقية"
KIRKUK_AR_2 = "انسحاب التحالف قاعدة كركوك الجوية تسليم المعدات القوات العراقية رسميا"
BASRA = "ميناء البصرة صادرات النفط ارتفاع الشحنات الأسبوع"


def run(candidates, rule=R(), limits=LIMITS):
    state, out = RuleState(rule_id="withdrawal"), []
    for c in candidates:
        state, revisions = advance(state, c, rule, limits)
        out += revisions
    return state, out


def test_reports_of_one_event_from_two_outlets_become_one_story_alerted_once():
    state, out = run(
        [
            candidate("a1", KIRKUK_AR, outlet="aljazeera"),
            candidate("b1", KIRKUK_AR_2, 5, outlet="bbc"),
        ]
    )
    assert [(r.alert.key, r.revision) for r in out] == [
        ("story:withdrawal:a1", 0),
        ("story:withdrawal:a1", 1),
    ]
    update = out[1].alert
    assert [a.outlet for a in update.articles] == ["aljazeera", "bbc"]
    assert update.counts == {"articles": 2}
    assert update.title == "title a1"
    assert len(state.stories) == 1


def test_unrelated_text_starts_its_own_story():
    _, out = run([candidate("a1", KIRKUK_AR), candidate("c1", BASRA, 5)])
    assert [(r.alert.key, r.revision) for r in out] == [
        ("story:withdrawal:a1", 0),
        ("story:withdrawal:c1", 0),
    ]


def test_same_text_in_another_place_is_another_story():
    _, out = run([candidate("a1", KIRKUK_AR), candidate("b1", KIRKUK_AR_2, 5, places=("syria",))])
    assert [r.revision for r in out] == [0, 0]


def test_a_report_after_the_window_starts_a_new_story():
    _, out = run([candidate("a1", KIRKUK_AR), candidate("b1", KIRKUK_AR_2, 7 * 60)])
    assert [r.alert.key for r in out] == ["story:withdrawal:a1", "story:withdrawal:b1"]


def test_replayed_candidates_change_nothing():
    first = [candidate("a1", KIRKUK_AR), candidate("b1", KIRKUK_AR_2, 5)]
    state, out = run(first)
    before = state.model_dump()
    for c in first:
        state, revisions = advance(state, c, R(), LIMITS)
        assert revisions == []
    assert state.model_dump() == before


def test_replay_from_scratch_computes_the_same_alerts():
    stream = [
        candidate("a1", KIRKUK_AR),
        candidate("c1", BASRA, 1),
        candidate("b1", KIRKUK_AR_2, 2),
    ]
    assert run(stream)[1] == run(stream)[1]


def test_an_alert_lists_the_first_and_the_latest_reports():
    stream = [candidate(f"x{i}", KIRKUK_AR, i) for i in range(6)]
    _, out = run(stream)
    assert [a.article_id for a in out[-1].alert.articles] == ["x0", "x4", "x5"]
    assert out[-1].revision == 5


def test_escalation_fires_once_when_distinct_stories_reach_the_threshold():
    rule = R(escalate=Esc(window=timedelta(hours=24), threshold=3))
    stream = [
        candidate("s1", KIRKUK_AR, 0),
        candidate("s1b", KIRKUK_AR_2, 1),  # same story: does not count twice
        candidate("s2", BASRA, 2),
        candidate("s3", "هجوم صاروخي على مطار أربيل الدولي", 3),
        candidate("s4", "قصف معسكر قرب الموصل بطائرة مسيرة", 4),
    ]
    _, out = run(stream, rule)
    escalations = [r for r in out if r.alert.kind == "escalation"]
    assert len(escalations) == 1
    alert = escalations[0].alert
    assert alert.key == "escalation:withdrawal:iraq:2026-01-05T00:00:00+00:00"
    assert alert.severity == Severity.critical
    assert alert.counts == {"stories": 3, "iraq": 3}
    assert alert.title == "Troop withdrawal: 3 stories in iraq within 1d"
    assert {a.article_id for a in alert.articles} == {"s1", "s2", "s3"}
    # The story alerts it counts, by key (notify's inhibitions hold back their updates).
    story_keys = {r.alert.key for r in out if r.alert.kind == "match"}
    assert set(alert.stories) == {f"story:withdrawal:{s}" for s in ("s1", "s2", "s3")}
    assert set(alert.stories) <= story_keys


def test_escalation_counts_per_place_and_per_window():
    rule = R(escalate=Esc(window=timedelta(hours=1), threshold=2))
    stream = [
        candidate("s1", KIRKUK_AR, 0),
        candidate("s2", BASRA, 61),  # next window
        candidate("s3", "هجوم صاروخي على مطار أربيل الدولي", 62, places=("syria",)),
        candidate("s4", "قصف معسكر قرب الموصل بطائرة مسيرة", 63),
    ]
    _, out = run(stream, rule)
    keys = [r.alert.key for r in out if r.alert.kind == "escalation"]
    assert keys == ["escalation:withdrawal:iraq:2026-01-05T11:00:00+00:00"]


def test_state_survives_a_json_round_trip():
    state, _ = run([candidate("a1", KIRKUK_AR), candidate("b1", KIRKUK_AR_2, 5)])
    assert RuleState.model_validate(state.model_dump(mode="json")) == state


def test_deleted_rule_still_alerts_with_the_match_severity():
    _, out = run([candidate("a1", KIRKUK_AR)], rule=None)
    assert out[0].alert.severity == Severity.high


def test_a_report_in_another_language_joins_through_a_shared_site():
    arabic = candidate("aj1", KIRKUK_AR, places=("iraq", "k1"), lang="ar", sites=("k1",))
    english = candidate(
        "bbc1",
        "coalition withdraws troops kirkuk air base",
        3,
        ("iraq", "k1"),
        lang="en",
        sites=("k1",),
    )
    _, out = run([arabic, english])
    assert [(r.alert.key, r.revision) for r in out] == [
        ("story:withdrawal:aj1", 0),
        ("story:withdrawal:aj1", 1),
    ]


def test_a_report_in_the_same_language_needs_similar_words_even_at_the_same_site():
    one = candidate("aj1", KIRKUK_AR, places=("iraq", "k1"), lang="ar", sites=("k1",))
    two = candidate("aj2", BASRA, 3, places=("iraq", "k1"), lang="ar", sites=("k1",))
    _, out = run([one, two])
    assert [r.revision for r in out] == [0, 0]


def test_nested_places_crossing_together_share_one_escalation():
    rule = R(escalate=Esc(window=timedelta(hours=1), threshold=2))
    stream = [
        candidate("s1", KIRKUK_AR, 0, places=("iraq", "kirkuk")),
        candidate("s2", BASRA, 1, places=("iraq", "kirkuk")),
        candidate("s3", "هجوم صاروخي على مطار أربيل الدولي", 2, places=("iraq", "erbil")),
    ]
    _, out = run(stream, rule)
    (escalation,) = [r.alert for r in out if r.alert.kind == "escalation"]
    assert escalation.key == "escalation:withdrawal:iraq+kirkuk:2026-01-05T10:00:00+00:00"
    assert escalation.places == ("iraq", "kirkuk")
    assert escalation.counts == {"stories": 2, "iraq": 2, "kirkuk": 2}


def test_alerts_carry_the_rules_receivers_and_cooldown_for_notify():
    rule = R(
        notify=("iraq-desk",),
        cooldown=timedelta(hours=1),
        escalate=Esc(window=timedelta(hours=24), threshold=2),
    )
    _, out = run([candidate("s1", KIRKUK_AR, 0), candidate("s2", BASRA, 2)], rule)
    assert [(r.alert.kind, r.alert.notify, r.alert.cooldown_seconds) for r in out] == [
        ("match", ("iraq-desk",), 3600),
        ("match", ("iraq-desk",), 3600),
        ("escalation", ("iraq-desk",), None),
    ]


def test_a_joined_report_in_another_language_brings_its_matched_words():
    from rasd.models import TermHit

    def hit(text):
        return TermHit(term=text, field="title", start=0, end=len(text), text=text)

    ar = candidate("a1", KIRKUK_AR, lang="ar", sites=("k1",))
    ar = ar.model_copy(update={"match": ar.match.model_copy(update={"terms": (hit("يسحب"),)})})
    en = candidate("e1", "coalition leaves kirkuk air base", 5, lang="en", sites=("k1",))
    en = en.model_copy(
        update={"match": en.match.model_copy(update={"terms": (hit("withdraw"), hit("يسحب"))})}
    )
    _, out = run([ar, en])
    assert [(r.alert.key, r.revision) for r in out] == [
        ("story:withdrawal:a1", 0),
        ("story:withdrawal:a1", 1),
    ]
    assert [t.text for t in out[1].alert.terms] == ["يسحب", "withdraw"]


def test_a_full_story_takes_no_more_reports_and_the_next_one_starts_a_new_story():
    limits = Limits(
        window=timedelta(hours=6), threshold=0.25, max_open=50, max_articles=3, max_reports=3
    )
    state, out = run([candidate(f"k{i}", KIRKUK_AR, i) for i in range(7)], limits=limits)
    assert [len(s.article_ids) for s in state.stories] == [3, 3, 1]
    assert [(r.alert.key, r.revision) for r in out if r.revision == 0] == [
        ("story:withdrawal:k0", 0),
        ("story:withdrawal:k3", 0),
        ("story:withdrawal:k6", 0),
    ]
    # A replay of a report of the full story is still recognised.
    again, revisions = advance(state, candidate("k1", KIRKUK_AR, 8), R(), limits)
    assert revisions == [] and len(again.stories) == 3
