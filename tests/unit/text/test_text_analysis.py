"""Arabic and English analysis: form families reach one key, spans point into the original."""

from __future__ import annotations

import doctest

import pytest

import rasd.text
import rasd.text.analysis
import rasd.text.arabic
import rasd.text.normalize
from rasd.text import analyse, script_language


def keys(text: str, lang: str | None = "ar") -> list[frozenset[str]]:
    return [t.forms for t in analyse(text, lang)]


def term_key(word: str) -> str:
    (token,) = analyse(word, as_term=True)
    return token.key


def reaches(term: str, sentence: str, word: str) -> bool:
    """Whether ``word`` of ``sentence`` can be read as the rule term ``term``."""
    found = [t for t in analyse(sentence, "ar") if t.text == word]
    assert found, word
    return all(term_key(term) in token.forms for token in found)


FAMILIES = {
    # term: (sentence, words of it that must reach the term)
    "قوات": (
        "والقوات العراقية تسلمت المواقع من القوات الأميركية، وقال إن لقواتها دورا وإن قواته باقية"
        " وللقوات الأجنبية مهمة أخرى",
        ["والقوات", "القوات", "لقواتها", "قواته", "وللقوات"],
    ),
    "انسحاب": (
        "أعلن الانسحاب من القاعدة بعد أن انسحبت القوات، وقال إن انسحاب الجنود سينسحب تدريجيا",
        ["الانسحاب", "انسحبت", "انسحاب", "سينسحب"],
    ),
    "سحب": (
        "التحالف الدولي يسحب قواته من قاعدة مهمة بالعراق بعد أن سحبت فرنسا جنودها"
        " وأعلنت سحب البقية",
        ["يسحب", "سحبت", "سحب"],
    ),
    "صاروخ": (
        "سقط صاروخ قرب المطار، ثم استهدفت صواريخ القاعدة، وقصفت بصواريخ كاتيوشا"
        " في الهجمات الصاروخية",
        ["صاروخ", "صواريخ", "بصواريخ", "الصاروخية"],
    ),
    "قاعدة": (
        "تسلمت القوات العراقية قاعدة القيارة، وانسحبت من القاعدة ومن قاعدتين أخريين"
        " ومن قواعد عسكرية وبقاعدة عين الأسد",
        ["قاعدة", "القاعدة", "قاعدتين", "قواعد", "وبقاعدة"],
    ),
    "مسيرة": (
        "أسقطت الدفاعات طائرة مسيرة ثم طائرات مسيرة أخرى، وقالت إن المسيرات انطلقت من الحدود",
        ["مسيرة", "المسيرات"],
    ),
    "غارة": (
        "شنت طائرات حربية غارة على مواقع الفصائل، وأعقبتها غارات أخرى، وقتل اثنان بالغارات",
        ["غارة", "غارات", "بالغارات"],
    ),
    "العراق": (
        "قوات أميركية خلال انتشار سابق في العراق وبالعراق والقوات العراقية",
        ["العراق", "وبالعراق", "العراقية"],
    ),
}


@pytest.mark.parametrize("term", list(FAMILIES))
def test_arabic_form_family_reaches_the_term(term):
    sentence, words = FAMILIES[term]
    for word in words:
        assert reaches(term, sentence, word), (term, word)


def test_teh_marbuta_does_not_split_base_from_the_base():
    assert term_key("قاعدة") == term_key("القاعدة") == term_key("قاعده")


def test_diacritics_tatweel_alef_and_maksura_are_normalised():
    (plain,) = analyse("إلى", "ar")
    (variant,) = analyse("الى", "ar")
    assert plain.key == variant.key
    assert analyse("القُوَّات", "ar")[0].key == analyse("القوات", "ar")[0].key
    assert analyse("الــقــوات", "ar")[0].key == analyse("القوات", "ar")[0].key
    assert analyse("أمريكا", "ar")[0].key == analyse("امريكا", "ar")[0].key


def test_arabic_indic_digits_become_ascii():
    assert [t.key for t in analyse("قتل ٣ جنود في ٢٠٢٤", "ar")][1] == "3"
    assert "2024" in [t.key for t in analyse("عام ٢٠٢٤", "ar")]


def test_ligatures_are_decomposed_without_moving_spans():
    text = "قال ﻻ للحرب"
    tokens = analyse(text, "ar")
    assert [text[t.start : t.end] for t in tokens] == ["قال", "ﻻ", "للحرب"]
    assert tokens[1].key == "لا"


def test_spans_point_into_the_original_text():
    text = "كادت تتسبب بحرب مفتوحة مع إيران.. التحالف الدولي يسحب قُوَّاتَه (من) قاعدة K1 مهمة بالعراق"
    tokens = analyse(text, "ar")
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert "قُوَّاتَه" in [t.text for t in tokens]
    assert "(" not in [t.text for t in tokens]
    assert [t.position for t in tokens] == list(range(len(tokens)))


def test_english_is_casefolded_and_stemmed():
    tokens = analyse("US Troops withdrawing; Rockets HIT the base", "en")
    assert [t.key for t in tokens] == ["us", "troop", "withdraw", "rocket", "hit", "the", "base"]
    assert tokens[2].text == "withdrawing"


def test_language_is_detected_from_script_when_missing():
    assert script_language("التحالف الدولي يسحب قواته") == "ar"
    assert script_language("Coalition withdraws from K1 base") == "en"
    assert analyse("Rockets hit Erbil", None)[0].key == "rocket"


def test_one_language_detector_and_ties_go_to_arabic():
    assert script_language("USA قوة") == "ar"  # three letters of each script
    assert script_language("2026 - 11") is None
    assert not hasattr(rasd.text, "detect_lang")


def test_mixed_script_text_analyses_each_word_by_its_script():
    tokens = analyse("قاعدة K1 في كركوك", "ar")
    assert [t.script for t in tokens] == ["arabic", "latin", "arabic", "arabic"]
    assert tokens[1].key == "k1"


def test_distinct_words_stay_apart():
    # Light stemming must not merge what a desk needs to tell apart.
    assert term_key("قاعدة") != term_key("قائد")
    assert term_key("انسحاب") != term_key("سحب")
    assert term_key("قوات") != term_key("قرار")


@pytest.mark.parametrize(
    "module", [rasd.text, rasd.text.analysis, rasd.text.arabic, rasd.text.normalize]
)
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    ("term", "sentence"),
    [
        ("withdraw", "The coalition withdraws troops, withdrawing slowly; withdrawal was planned"),
        ("rocket", "A rocket hit the base; rockets were fired"),
        ("evacuate", "Embassy evacuates staff after evacuating families"),
        ("attack", "Militias attacked the base; attacks continued, attacking again"),
    ],
)
def test_english_form_family_reaches_the_term(term, sentence):
    (key,) = [t.key for t in analyse(term, "en", as_term=True)]
    words = [t for t in analyse(sentence, "en") if t.text.lower().startswith(term[:5])]
    assert len(words) >= 2
    assert all(key in t.forms for t in words), [(t.text, t.key) for t in words]


def test_chunks_are_split_as_camel_tools_splits_them():
    import random

    from camel_tools.tokenizers.word import simple_word_tokenize

    from rasd.text.analysis import _SYMBOLS, split_chunk

    chunks = ["(القوات)،", "U.S.", "al-Asad", "#قاعدة", "1\u20e3x", "a\U0001f1ee\U0001f1f6b"]
    chunks += ["👍🏽ok", "x‼\ufe0fy", "©x", "a😀b", "...", "١٢٣؟", "x#\ufe0f\u20e3", "a\u200db"]
    symbols = sorted(_SYMBOLS)
    rng = random.Random(7)
    for _ in range(3000):
        chunks.append(
            "".join(
                rng.choice(symbols) if rng.random() < 0.4 else rng.choice("ab1ق٣")
                for _ in range(rng.randint(1, 6))
            )
        )
    chunks += ["Israel's", "(Gaza’s)", "U.S.'s", "'s-Hertogenbosch", "Hamas’", "it's", "a's's"]
    for _ in range(1000):
        chunks.append("".join(rng.choice("asS.'’(ق") for _ in range(6)))
    for chunk in chunks:
        if chunk and not any(c.isspace() for c in chunk):
            words = split_chunk(chunk)
            assert [w for _, _, w in words] == with_possessives(simple_word_tokenize(chunk)), chunk
            endings = ("", "'s", "'S", "’s", "’S")
            assert all(chunk[start:end] in {w + e for e in endings} for start, end, w in words)


def test_a_word_between_marks_is_the_word_split_chunk_gives():
    import random

    from rasd.text.analysis import _MARKS, _SYMBOLS, chunk_core, read_word, split_chunk

    rng = random.Random(11)
    marks = list(_MARKS) + sorted(_SYMBOLS)[:40]
    chunks = ['"القوات"،', "(AFP)", "Riyadh:", ".'s", "’s", "'S", "U.S.", "(2018)", "«٣»", "ℹ."]
    for _ in range(3000):
        word = "".join(rng.choice("asSق٣1.'’-") for _ in range(rng.randint(0, 4)))
        before, after = ("".join(rng.choices(marks, k=rng.randint(0, 2))) for _ in "ab")
        chunks.append(before + word + after)
    cores = 0
    for chunk in chunks:
        if not chunk:
            continue
        core = chunk_core(chunk)
        read = [(start, word) for start, _, word in split_chunk(chunk) if read_word(word, "en")[0]]
        if core is not None:
            cores += 1
            start, word = core
            assert read == [core], chunk
            assert chunk[start : start + len(word)] == word
    assert cores > 500


def with_possessives(words: list[str]) -> list[str]:
    """camel-tools' words with a possessive ('s, ’s) joined to the word before it (read as that
    word): written independently of rasd's splitter, from the words alone."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if (
            i + 2 < len(words)
            and (words[i][-1].isalnum() or words[i] == ".")
            and words[i + 1] in ("'", "’")
            and words[i + 2] in ("s", "S")
        ):
            out.append(words[i])
            i += 3
        else:
            out.append(words[i])
            i += 1
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Israel's strike", [("Israel's", "israel"), ("strike", "strike")]),
        ("Russia’s retreat.", [("Russia’s", "russia"), ("retreat", "retreat")]),
        ("(Iran's) U.S.'s", [("Iran's", "iran"), ("U", "u"), ("S", "s")]),
        ("Hamas’ fighters", [("Hamas", "hama"), ("fighters", "fighter")]),
        ("'s-Hertogenbosch", [("s", "s"), ("Hertogenbosch", "hertogenbosch")]),
    ],
)
def test_possessive_is_part_of_its_word(text, expected):
    tokens = analyse(text, "en")
    assert [(t.text, t.key) for t in tokens] == expected
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert [t.position for t in tokens] == list(range(len(tokens)))
