"""Which reports are one event: the matcher's places, words and numbers through the story logic.

The sentences are written for these tests (not taken from any feed): two handovers of two bases
on one day, each reported in Arabic and in English by different outlets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rasd.models import Article, Severity
from rasd.rules import Matcher, parse_rules
from rasd.streams.similarity import (
    _STOPWORDS,
    article_signature,
    numbers,
    signature,
    similarity,
)
from rasd.streams.stories import Candidate, Limits, RuleState, advance
from rasd.text import analyse
from tests.unit.streams.test_streams_stories import Esc, R, candidate

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
LIMITS = Limits(
    window=timedelta(hours=12),
    threshold=0.15,
    same_outlet_threshold=0.35,
    max_open=50,
    max_articles=5,
)

RULES = """
- id: withdrawal
  title: Withdrawal of troops or handover of a base
  match:
    near:
      terms: [[تسليم, يسلم, handover, hands over, handed over], [قاعدة, base]]
      within: 6
- id: bombing
  title: Bombing
  match: {any: [تفجير, مفخخة, car bomb, bombing]}
"""

K1_AR = (
    "التحالف الدولي يسلم قاعدة كي وان قرب كركوك للقوات العراقية",
    "أعلن التحالف الدولي الأحد تسليم القاعدة إلى الجيش العراقي بعد مغادرة نحو 300 جندي منها.",
)
K1_EN = (
    "Coalition hands over K1 base near Kirkuk to Iraqi forces",
    "The US-led coalition handed the base to the Iraqi army on Sunday after some 300 troops left.",
)
QAYYARAH_EN = (
    "Coalition hands over Qayyarah air base to Iraqi forces",
    "The US-led coalition handed the Qayyarah base in Nineveh to the Iraqi army on Sunday, "
    "its second handover this week.",
)
QAYYARAH_AR = (
    "التحالف يسلم قاعدة القيارة جنوب الموصل للجيش العراقي",
    "سلمت قوات التحالف الدولي قاعدة القيارة في محافظة نينوى إلى القوات العراقية اليوم الأحد.",
)


def article(article_id, text, lang, outlet, minutes=0):
    title, summary = text
    seen = T0 + timedelta(minutes=minutes)
    return Article(
        id=article_id,
        outlet=outlet,
        feed=outlet,
        lang=lang,
        title=title,
        summary=summary,
        published_at=seen,
        fetched_at=seen,
    )


@pytest.fixture(scope="module")
def matcher():
    return Matcher(parse_rules(RULES, "inline.yaml").rules)


def stories_of(matcher, articles, rule_id="withdrawal", rule=None):
    """Each article's story id, and every alert revision, after the whole stream."""
    state, story_of, revisions = RuleState(rule_id=rule_id), {}, []
    for a in articles:
        (match,) = [m for m in matcher.match(a) if m.rule_id == rule_id]
        state, out = advance(state, Candidate.from_match(match, a), rule, LIMITS)
        story_of[a.id] = out[0].alert.key.rsplit(":", 1)[1]
        revisions += out
    return story_of, revisions


def test_the_k1_handover_in_arabic_and_english_is_one_story_and_qayyarah_another(matcher):
    stream = [
        article("aj-k1", K1_AR, "ar", "aljazeera"),
        article("bbc-k1", K1_EN, "en", "bbc", 20),
        article("bbc-qay", QAYYARAH_EN, "en", "bbc", 90),
        article("sky-qay", QAYYARAH_AR, "ar", "skynews", 100),
    ]
    story_of, _ = stories_of(matcher, stream)
    assert story_of == {
        "aj-k1": "aj-k1",
        "bbc-k1": "aj-k1",
        "bbc-qay": "bbc-qay",
        "sky-qay": "bbc-qay",
    }


def test_the_escalation_counts_the_two_handovers_not_the_four_reports(matcher):
    rule = R(escalate=Esc(window=timedelta(days=7), threshold=3))
    stream = [
        article("aj-k1", K1_AR, "ar", "aljazeera"),
        article("bbc-k1", K1_EN, "en", "bbc", 20),
        article("bbc-qay", QAYYARAH_EN, "en", "bbc", 90),
        article("sky-qay", QAYYARAH_AR, "ar", "skynews", 100),
    ]
    _, revisions = stories_of(matcher, stream, rule=rule)
    assert [r.alert.kind for r in revisions] == ["match"] * 4
    # A third event does cross the threshold, once, and lists one report per event.
    third = article(
        "aj-taji",
        ("التحالف يسلم قاعدة التاجي للقوات العراقية", "تسليم قاعدة التاجي شمال بغداد اليوم."),
        "ar",
        "aljazeera",
        180,
    )
    _, revisions = stories_of(matcher, [*stream, third], rule=rule)
    (escalation,) = [r.alert for r in revisions if r.alert.kind == "escalation"]
    assert escalation.counts["iraq"] == 3
    assert sorted(a.article_id for a in escalation.articles) == ["aj-k1", "aj-taji", "bbc-qay"]
    assert escalation.severity == Severity.critical


def test_the_same_base_named_in_both_languages_joins_even_hours_later(matcher):
    stream = [
        article("bbc-qay", QAYYARAH_EN, "en", "bbc"),
        article("sky-qay", QAYYARAH_AR, "ar", "skynews", 11 * 60),
    ]
    story_of, _ = stories_of(matcher, stream)
    assert story_of["sky-qay"] == "bbc-qay"


def test_a_report_after_the_story_window_is_a_new_story_even_at_the_same_base(matcher):
    stream = [
        article("bbc-qay", QAYYARAH_EN, "en", "bbc"),
        article("sky-qay", QAYYARAH_AR, "ar", "skynews", 13 * 60),
    ]
    story_of, _ = stories_of(matcher, stream)
    assert story_of["sky-qay"] == "sky-qay"


BOMB_AR_12 = (
    "مقتل 12 شخصا في تفجير سيارة مفخخة ببغداد",
    "قالت مصادر أمنية إن سيارة مفخخة انفجرت قرب سوق شعبي.",
)
BOMB_EN_12 = ("Car bomb kills 12 in Baghdad market", "Police said the blast hit a busy market.")
BOMB_EN_7 = ("Car bomb kills 7 in Baghdad", "A second blast hit a checkpoint, officials said.")
BOMB_AR_INDIC = ("مقتل ١٢ شخصا في تفجير ببغداد", "انفجار سيارة مفخخة قرب سوق.")


def test_across_languages_a_shared_number_and_city_link_reports_a_different_number_does_not(
    matcher,
):
    stream = [
        article("ar-12", BOMB_AR_12, "ar", "aljazeera"),
        article("en-12", BOMB_EN_12, "en", "reuters", 30),
    ]
    story_of, _ = stories_of(matcher, stream, "bombing")
    assert story_of["en-12"] == "ar-12"
    stream = [
        article("ar-12", BOMB_AR_12, "ar", "aljazeera"),
        article("en-7", BOMB_EN_7, "en", "reuters", 30),
    ]
    story_of, _ = stories_of(matcher, stream, "bombing")
    assert story_of["en-7"] == "en-7"


def test_arabic_indic_digits_are_the_same_number(matcher):
    stream = [
        article("ar-indic", BOMB_AR_INDIC, "ar", "skynews"),
        article("en-12", BOMB_EN_12, "en", "reuters", 30),
    ]
    story_of, _ = stories_of(matcher, stream, "bombing")
    assert story_of["en-12"] == "ar-indic"


def test_numbers_are_read_in_ascii_digits_without_years_single_digits_or_separators():
    assert numbers("مقتل ١٢ و3 في 2023 بـ1,300 دولار و2.5 مليون و۴۵٫۵ طن") == [
        "12",
        "1300",
        "2.5",
        "45.5",
    ]
    assert numbers("F16 jets, COP28, 40% and 1.3bn") == ["40", "1.3"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (K1_AR, "ar"),
        (K1_EN, "en"),
        (QAYYARAH_AR, "ar-IQ"),
        (
            ("The army's base (AFP) — it's #قاعدة_عسكرية, with the U.S.'s help", "who was there"),
            None,
        ),
        (("Tanks  at\u00a0the\tborder;", "ولم يكن هناك أي تغيير في قاعدتهم، قالوا"), "ar"),
        (("", ""), "en"),
    ],
)
def test_article_signature_is_the_signature_of_the_analysed_text(text, lang):
    # The signature is kept per whitespace-separated chunk; it must be the sketch of the whole
    # text's analysed words, stop words dropped, as the analyser reads the text at once.
    title, summary = text
    tokens = analyse(f"{title}\n{summary}", lang)
    expected = signature(t.key for t in tokens if t.text.casefold() not in _STOPWORDS)
    assert article_signature(title, summary, lang) == expected
    assert similarity(article_signature(title, summary, lang), expected) == (
        1.0 if expected else 0.0
    )


# Two reports sharing a quarter of their words: the same template from one outlet, or one event
# worded differently by two outlets.
ONE = "saudi index closes points monday banks energy shares trading volume"
TWO = "saudi index closes points tuesday telecom retail shares gains market"


def test_one_outlet_needs_more_shared_words_than_two_outlets():
    score = similarity(signature(ONE.split()), signature(TWO.split()))
    assert LIMITS.threshold <= score < LIMITS.same_outlet_threshold
    for outlet, joined in (("arabnews", False), ("reuters", True)):
        state = RuleState(rule_id="withdrawal")
        state, _ = advance(state, candidate("d1", ONE, 0, outlet="arabnews"), None, LIMITS)
        state, out = advance(state, candidate("d2", TWO, 60, outlet=outlet), None, LIMITS)
        assert (out[0].alert.key == "story:withdrawal:d1") is joined


def test_sketch_similarity_is_exact_for_short_reports_and_close_for_long_ones():
    a = [f"word{i}" for i in range(30)]
    b = [f"word{i}" for i in range(20, 45)]
    assert similarity(signature(a), signature(b)) == pytest.approx(10 / 45)
    long_a = [f"word{i}" for i in range(400)]
    long_b = [f"word{i}" for i in range(200, 600)]
    assert similarity(signature(long_a), signature(long_b)) == pytest.approx(200 / 600, abs=0.15)


def test_a_state_written_before_outlets_were_kept_still_groups():
    state = RuleState(rule_id="withdrawal")
    state, _ = advance(state, candidate("d1", ONE, 0, outlet="a"), None, LIMITS)
    state.stories[0].signature_outlets = []
    old = RuleState.model_validate(state.model_dump(mode="json"))
    state, out = advance(old, candidate("d2", ONE + " extra", 5, outlet="a"), None, LIMITS)
    assert out[0].alert.key == "story:withdrawal:d1"
    assert state.stories[0].signature_outlets == []


def test_a_regional_language_tag_is_the_same_language():
    first = candidate("e1", ONE, 0, places=("iraq", "k1"), lang="en", sites=("k1",))
    second = candidate("e2", "oil exports rise basra port", 5, ("iraq", "k1"), lang="en-GB")
    second = second.model_copy(update={"sites": ["k1"]})
    state, _ = advance(RuleState(rule_id="withdrawal"), first, None, LIMITS)
    _, out = advance(state, second, None, LIMITS)
    assert out[0].alert.key == "story:withdrawal:e2"
