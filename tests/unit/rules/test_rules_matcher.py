"""The matcher: terms through the analyser, phrases, near, filters, places, spans."""

from __future__ import annotations

import pytest

from rasd.models import Article
from rasd.rules import Matcher, parse_rules


def rules(text: str):
    result = parse_rules(text, "inline.yaml")
    assert result.errors == []
    return result.rules


def article(title: str, summary: str = "", lang: str = "ar", **extra) -> Article:
    return Article(
        id="a1",
        outlet=extra.pop("outlet", "Al Jazeera"),
        feed="f",
        lang=lang,
        title=title,
        summary=summary,
        **extra,
    )


WITHDRAWAL = """\
id: withdrawal
title: Withdrawal
severity: high
tags: [withdrawal]
match:
  near:
    terms: [[انسحاب, سحب, withdraw, withdrawal], [قوات, قاعدة, troops, base]]
    within: 4
  none: [سحب الثقة]
"""


@pytest.mark.parametrize(
    "title",
    [
        "التحالف الدولي يسحب قواته من قاعدة مهمة بالعراق",
        "انسحاب القوات الأميركية من قاعدة القائم",
        "فرنسا تعلن سحب قواتها العسكرية العاملة في العراق مؤقتا",
        "الانسحاب من القاعدة وتسليمها للقوات العراقية خطط له منذ أشهر",
        "US troops withdraw from K1 air base near Kirkuk",
    ],
)
def test_withdrawal_forms_match(title):
    (match,) = Matcher(rules(WITHDRAWAL)).match(article(title))
    assert match.rule_id == "withdrawal" and match.tags == ("withdrawal",)


@pytest.mark.parametrize(
    "title",
    [
        "البرلمان يصوت على سحب الثقة من الحكومة بعد انسحاب نواب القوات اللبنانية",
        "سحب قرعة كأس آسيا للأندية",
        "Candidate announces withdrawal from the presidential race",
    ],
)
def test_other_withdrawals_do_not_match(title):
    assert Matcher(rules(WITHDRAWAL)).match(article(title)) == []


def test_spans_refer_to_the_original_text():
    title = "التحالف الدولي يَسحَب قُوَّاتَه من قاعدة كركوك"
    (match,) = Matcher(rules(WITHDRAWAL)).match(article(title))
    for hit in match.terms:
        assert title[hit.start : hit.end] == hit.text
    assert [h.text for h in match.terms] == ["يَسحَب", "قُوَّاتَه"]
    assert {h.term for h in match.terms} == {"سحب", "قوات"}


def test_places_include_containing_places_in_order_of_mention():
    (match,) = Matcher(rules(WITHDRAWAL)).match(
        article("انسحاب القوات من قاعدة كي وان", "الانسحاب تم من قاعدة كركوك الجوية شمالي العراق")
    )
    assert match.places[:2] == ("k1", "kirkuk")
    assert "iraq" in match.places


def test_phrases_need_consecutive_words():
    text = "id: p\ntitle: P\nmatch: {any: [طائرة مسيرة, drone strike]}\n"
    matcher = Matcher(rules(text))
    assert matcher.match(article("إسقاط طائرات مسيرة قرب أربيل"))
    assert not matcher.match(article("انطلاق مسيرة حاشدة وطائرة تحلق فوق بغداد"))
    assert matcher.match(article("A drone strike hit a car", lang="en"))
    assert not matcher.match(article("A drone was seen; the strike continued", lang="en"))


def test_near_counts_tokens_and_stays_within_one_field():
    text = "id: n\ntitle: N\nmatch: {near: {terms: [rocket, base], within: 3}}\n"
    matcher = Matcher(rules(text))
    assert matcher.match(article("Rockets hit the base", lang="en"))
    assert not matcher.match(article("Rockets were fired late at night toward the base", lang="en"))
    assert not matcher.match(article("Rockets", "base", lang="en"))


def test_all_any_none_nest():
    text = """\
id: nested
title: Nested
match:
  all:
    - any: [صاروخ, rocket]
    - any: [{all: [قاعدة, عسكرية]}, مطار, airport]
  none: [مناورات, {all: [test, launch]}]
"""
    matcher = Matcher(rules(text))
    assert matcher.match(article("سقوط صواريخ على قاعدة عسكرية"))
    assert matcher.match(article("صاروخ يسقط قرب مطار أربيل"))
    assert not matcher.match(article("صاروخ قرب قاعدة"))
    assert not matcher.match(article("صواريخ في مناورات قرب المطار"))
    assert not matcher.match(article("Rocket test launch at the airport", lang="en"))
    assert matcher.match(article("Rocket hits the airport", lang="en"))


def test_fields_lang_outlet_and_place_filters():
    text = """\
- id: title-only
  title: T
  match: {any: [rocket]}
  fields: [title]
- id: english
  title: E
  match: {any: [rocket, صاروخ]}
  lang: [en]
- id: outlet
  title: O
  match: {any: [rocket]}
  outlets: [Shafaq News]
- id: syria
  title: S
  match: {any: [rocket]}
  places: [syria]
- id: body
  title: B
  match: {any: [rocket]}
  fields: [body]
"""
    matcher = Matcher(rules(text))

    def ids(a):
        return [m.rule_id for m in matcher.match(a)]

    assert ids(article("News", "rocket hits Baghdad", lang="en")) == ["english"]
    assert ids(article("Rocket hits Baghdad", lang="en-US", outlet="shafaq news")) == [
        "title-only",
        "english",
        "outlet",
    ]
    assert ids(article("Rocket hits Deir ez-Zor", lang="en")) == ["title-only", "english", "syria"]
    assert ids(article("صاروخ", lang="ar")) == []
    assert ids(article("x", lang="en", body="a rocket fell")) == ["body"]


def test_disabled_rules_are_ignored():
    text = "id: disabled\ntitle: Disabled\nenabled: false\nmatch: {any: [rocket]}\n"
    assert Matcher(rules(text)).match(article("Rocket", lang="en")) == []


def test_match_carries_rule_identity():
    (rule,) = rules(WITHDRAWAL)
    (match,) = Matcher([rule]).match(article("انسحاب القوات"))
    assert (match.article_id, match.rule_id, match.rule_version) == ("a1", rule.id, rule.version)
    assert match.severity == rule.severity


def test_matching_does_not_loop_over_rules():
    """2,000 rules that cannot match an article cost nothing beyond the index lookups."""
    many = "\n".join(
        f"- id: r{i}\n  title: R{i}\n  match: {{any: [word{i}]}}" for i in range(2_000)
    )
    matcher = Matcher(rules(many + "\n- id: hit\n  title: Hit\n  match: {any: [rocket]}\n"))
    calls = []
    import rasd.rules.matcher as module

    original = module._satisfied

    def counting(node, hits):
        calls.append(node)
        return original(node, hits)

    module._satisfied = counting
    try:
        assert [m.rule_id for m in matcher.match(article("Rocket hits base", lang="en"))] == ["hit"]
    finally:
        module._satisfied = original
    assert len(calls) < 10


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("rocket", True),
        ("mortar shell", True),
        ("mortar", False),
        ("drone fell near the base", True),
        ("drone fell far far far far far away from the base", False),
        ("rocket exercise", False),
    ],
)
def test_rules_wake_up_through_any_branch(title, expected):
    """Candidate selection (anchor terms, required sets) never hides a branch that can match."""
    text = """\
id: branches
title: Branches
match:
  any:
    - rocket
    - all: [mortar, shell]
    - near: {terms: [drone, base], within: 4}
  none: [exercise]
"""
    assert bool(Matcher(rules(text)).match(article(title, lang="en"))) is expected


def test_terms_without_anything_to_match_are_refused():
    result = parse_rules("id: t\ntitle: T\nmatch: {any: ['ـــ', '!!']}\n", "t.yaml")
    assert [e.message for e in result.errors] == [
        "match.any.0: 'ـــ' has no letters or digits to match",
        "match.any.1: '!!' has no letters or digits to match",
    ]


VETO_NEAR = """\
id: missile
title: Missile fired
tags: [attack]
match:
  near:
    terms: [[صاروخ, missile], [أطلق, fired]]
    within: 3
    unless: [تجربة, test]
    unless_within: 3
"""


def test_a_veto_next_to_the_window_refuses_it():
    matcher = Matcher(rules(VETO_NEAR))
    assert matcher.match(article("Army fired a missile at the base", lang="en"))
    assert not matcher.match(article("Army fired a missile in a test", lang="en"))
    # A test elsewhere in the text does not veto the attack it reports (``none`` would).
    text = "Army fired a missile at the base; the test last year had failed"
    assert matcher.match(article(text, lang="en"))
    assert not matcher.match(article("أطلق الجيش صاروخا في تجربة جديدة"))


def test_a_single_entry_with_a_veto_is_a_term_unless_close_to_it():
    matcher = Matcher(
        rules(
            "id: s\ntitle: S\nmatch:\n  near: {terms: [[قصف]], unless: [يهدد, تهديد],"
            " unless_within: 2}\n"
        )
    )
    assert matcher.match(article("قصف مدفعي على بلدة في الريف"))
    assert not matcher.match(article("الجيش يهدد بقصف البلدة"))


def test_near_with_one_entry_and_no_veto_is_refused():
    result = parse_rules("id: s\ntitle: S\nmatch:\n  near: {terms: [[قصف]]}\n", "s.yaml")
    assert result.rules == []
    assert "needs 'unless'" in str(result.errors[0])


def test_a_term_written_with_equals_matches_the_word_as_written():
    text = "id: f\ntitle: F\nmatch:\n  near: {terms: [[=forces], [leave]], within: 3}\n"
    matcher = Matcher(rules(text))
    assert matcher.match(article("Foreign forces leave the town", lang="en"))
    # "forced" has the stem of "forces"; as written it is another word.
    assert not matcher.match(article("Families forced to leave the town", lang="en"))
    hit = matcher.match(article("Foreign forces leave the town", lang="en"))[0].terms[0]
    assert (hit.term, hit.text) == ("=forces", "forces")


def test_hashtag_words_are_read_one_by_one():
    matcher = Matcher(rules("id: h\ntitle: H\nmatch: {any: [مروحية]}\n"))
    (match,) = matcher.match(article("حلقت #مروحيات_الأباتشي فوق المدينة"))
    assert match.terms[0].text == "مروحيات"


RECALLED = """\
id: pull-out
title: Pull-out
tags: [withdrawal]
match:
  near:
    terms: [[pull out, withdrawal], [troops, =forces]]
    within: 4
    unless: [calls, {terms: [<year>, ago], within: 7}]
    unless_within: 1
"""


def test_a_veto_group_reaches_as_far_as_its_own_within():
    matcher = Matcher(rules(RECALLED))
    assert matcher.match(article("US troops pull out of the last base", lang="en"))
    # The year is 5 tokens from the window: beyond unless_within, within the group's reach.
    recalled = "Rule since taking power in 2021, as US and NATO forces pull out"
    assert not matcher.match(article(recalled, lang="en"))
    assert not matcher.match(article("Years after the 2021 withdrawal of US troops", lang="en"))
    # The plain vetoes keep their own, shorter reach.
    assert not matcher.match(article("Senator calls troops pull out a mistake", lang="en"))
    assert matcher.match(article("Troops pull out of the town as a senator calls", lang="en"))


def test_year_is_a_word_class_of_four_digit_years_only():
    matcher = Matcher(rules(RECALLED))
    assert not matcher.match(article("The 1990 pull out of troops", lang="en"))
    # Counts and other numbers are not years.
    assert matcher.match(article("2,000 troops pull out of the town", lang="en"))
    assert matcher.match(article("Troops pull out of Route 2300 town", lang="en"))


def test_a_year_is_found_in_any_chunk_and_script_it_is_written_in():
    matcher = Matcher(rules(RECALLED))
    for year in ("(1990)", "1990,", "«2021»", "20٢١"):
        assert not matcher.match(article(f"The {year} pull out of troops", lang="en")), year
    assert matcher.match(article("The ٢٠٢١ pull out of troops", lang="en"))  # not 1800-2099


def test_a_word_reads_the_same_in_every_chunk_around_it():
    plain = "انسحاب القوات من قاعدة كركوك"
    (expected,) = Matcher(rules(WITHDRAWAL)).match(article(plain))
    matcher = Matcher(rules(WITHDRAWAL))
    for title in ("انسحاب القوات، من قاعدة كركوك", "(انسحاب) القوات من «قاعدة» كركوك.", plain):
        # The bare words are read last, from what the chunks around them left in the cache.
        (found,) = matcher.match(article(title))
        assert [t.term for t in found.terms] == [t.term for t in expected.terms], title
        assert found.places == expected.places
    assert (found.rule_id, found.terms) == (expected.rule_id, expected.terms)


def test_an_unknown_word_class_is_an_error_with_a_suggestion():
    result = parse_rules(
        "id: s\ntitle: S\nmatch:\n  near: {terms: [[withdraw]], unless: [<yaer>]}\n", "s.yaml"
    )
    assert result.rules == []
    message = str(result.errors[0])
    assert "unknown word class '<yaer>'" in message and "did you mean '<year>'" in message


def test_phrase_spans_cross_chunks_punctuation_and_repeated_words():
    matcher = Matcher(rules("id: p\ntitle: P\nmatch: {any: [قاعدة عين الأسد, قصف قصف]}\n"))
    title = "قصف، قصف قصف على «قاعدة   عين_الأسد» ثم قاعدة عين الأسد."
    (match,) = matcher.match(article(title))
    found = [(h.term, title[h.start : h.end]) for h in match.terms]
    assert found == [
        ("قصف قصف", "قصف، قصف"),  # punctuation is no token: it does not break a phrase
        ("قصف قصف", "قصف قصف"),  # the second قصف starts the next hit as well
        ("قاعدة عين الأسد", "قاعدة   عين_الأسد"),
        ("قاعدة عين الأسد", "قاعدة عين الأسد"),
    ]
    assert all(h.text == title[h.start : h.end] for h in match.terms)


def test_matches_do_not_depend_on_what_was_read_before():
    matcher = Matcher(rules(WITHDRAWAL))
    seen = "انسحاب القوات من قاعدة كركوك"

    def found(title: str) -> list[tuple]:
        return [(m.rule_id, m.places, m.terms) for m in matcher.match(article(title))]

    first = found(seen)
    for other in ("قاعدة", "انسحاب القوات", seen + " " + seen):
        found(other)
    assert first and found(seen) == first


def test_the_chunk_cache_is_bounded():
    from rasd.rules.matcher import _ChunkCache

    reads: list[str] = []
    cache = _ChunkCache(lambda chunk: reads.append(chunk) or ((), (), ()), size=2, recent=2)
    cache.read_all(["a", "b", "a"])
    assert reads == ["a", "b"]
    for chunk in ["c", "a", "d", "e", "c", "f", "g", "h", "i", "a", "b"]:
        cache.read_all([chunk])
        assert len(cache._kept) + len(cache._new) + len(cache._old) <= 2 + 2 * 2
    # a and b, read while there was room, stay; c went to the recent chunks and was still
    # there when seen again; i was the 4 * 2-th chunk missed, so the older half (a) was dropped.
    assert reads == ["a", "b", "c", "d", "e", "f", "g", "h", "i", "a"]


def test_the_chunk_cache_does_not_thrash_over_a_cycle_larger_than_it():
    from rasd.rules.matcher import _ChunkCache

    reads: list[str] = []
    cache = _ChunkCache(lambda chunk: reads.append(chunk) or ((), (), ()), size=100, recent=10)
    cycle = [f"w{i}" for i in range(150)]
    for _ in range(3):
        cache.read_all(cycle)
    # An LRU of 120 misses every chunk of a cycle of 150; this one keeps its first 100.
    assert len(reads) < 150 + 2 * 60


def test_a_possessive_is_read_as_its_name_in_phrases_and_near():
    text = (
        "id: s\ntitle: S\nmatch:\n  any:\n    - israel strike\n"
        "    - near: {terms: [[=russia], [retreat]], within: 1}\n"
    )
    matcher = Matcher(rules(text))
    (found,) = matcher.match(article("Israel's strike on the port", lang="en"))
    assert [(t.text, t.start, t.end) for t in found.terms] == [("Israel's strike", 0, 15)]
    assert matcher.match(article("Russia’s retreat from Kherson", lang="en"))
    assert not matcher.match(article("Israel said a strike", lang="en"))
