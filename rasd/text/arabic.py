"""Clitic-aware light stemming for Arabic.

A token such as لقواتها can be read several ways (ل + قوات + ها, or a word that simply starts
with lam). Instead of guessing, `readings` returns the stem of every plausible clitic
segmentation; the matcher's vocabulary of rule terms decides which reading is meant. `stem`
returns one primary reading (article and conjunctions stripped), used where a single key is
needed (story similarity).

Snowball Arabic alone is not used for this: it stems قوات→قوا but القوات→القو and
والقوات→والقوا, مسيرة→مسير but مسيرات→مسيرا, and قاعدة→قاعد but قاعدتين→قاعدت. The rules below
are ordered so that each form family reaches one key (tests/unit/text). `readings` also adds
what an ending may hide (tanween, verb endings, pronouns) and two curated tables cover what no
rule reaches (irregular plurals, two-letter doubled verbs); every row of
tests/fixtures/text/arabic_families.tsv, real word forms with their family and look-alikes
that must stay apart, is a test. Why not a morphological analyser: ARCHITECTURE.md.
"""

from __future__ import annotations

from functools import lru_cache

from rasd.text.normalize import normalize_arabic

# Article groups, longest first. "لل" is ل + ال with the alef dropped (للقوات).
_ARTICLES = ("وبال", "وكال", "فبال", "فكال", "ولل", "فلل", "وال", "فال", "بال", "كال", "لل", "ال")
_CONJUNCTIONS = ("و", "ف")
_PREPOSITIONS = ("ب", "ل", "ك")
# Imperfect verb prefixes (يسحب, تنسحب, سيسحب); only tried as an alternative reading.
_VERB_PREFIXES = ("سي", "ست", "سن", "ي", "ت", "ن")

# نا is "us/our" and the perfect's "we" (اعترضنا, مسيرتنا).
_PRONOUNS = ("هما", "كما", "هم", "هن", "كم", "ها", "نا", "ه")
_NUMBER_SUFFIXES = ("تين", "تان", "ات", "ون", "ين", "ان", "وا")
_MIN_STEM = 2


@lru_cache(maxsize=65_536)
def _strip_suffixes(word: str) -> str:
    # Cached: the readings of a word's clitic forms share their stems (بقصف, والقصف, قصفها).
    stem = _reduce_suffixes(word)
    return _IRREGULAR.get(stem, stem)


def _reduce_suffixes(word: str) -> str:
    if word.endswith(_PRONOUNS):
        for suffix in _PRONOUNS:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    if word.endswith(_NUMBER_SUFFIXES):
        for suffix in _NUMBER_SUFFIXES:
            # At least three letters stay, so قوات (forces) keeps its plural and does not meet
            # قوة (force, strength; also the football club القوة الجوية). -un/-in/-an need
            # four, because short names end that way too (غارون is Garrone, not a raid; لبنان).
            keep = _MIN_STEM + 2 if suffix in ("ون", "ين", "ان") else _MIN_STEM + 1
            if word.endswith(suffix) and len(word) - len(suffix) >= keep:
                word = word[: -len(suffix)]
                break
    # Teh marbuta, or the ت it becomes before a suffix (قاعدتين, قاعدته), or the perfect
    # feminine ending (انسحبت): all reduce to the bare stem, so قاعدة and القاعدة agree.
    if (word.endswith("ة") and len(word) > _MIN_STEM) or (word.endswith("ت") and len(word) > 3):
        word = word[:-1]
    # Nisba adjectives (صاروخية -> صاروخي -> صاروخ, العراقية -> عراق), only on longer words:
    # a short one ending in yeh is more often a name (غاري is Gary, not غارة, a raid).
    if word.endswith("ي") and len(word) > 4:
        word = word[:-1]
    return _reduce_pattern(word)


def _reduce_pattern(word: str) -> str:
    """Map two frequent broken-plural patterns and derived masdars to their singular/verb stem."""
    n = len(word)
    # فواعيل -> فاعول: صواريخ -> صاروخ
    if n == 6 and word[1] == "و" and word[2] == "ا" and word[4] == "ي":
        return word[0] + "ا" + word[3] + "و" + word[5]
    # فواعل -> فاعل: قواعد -> قاعد (as قاعدة -> قاعد)
    if n == 5 and word[1] == "و" and word[2] == "ا":
        return word[0] + "ا" + word[3:]
    # فعائل -> فعيل: قذائف -> قذيف (as قذيفة -> قذيف)
    if n == 5 and word[2] == "ا" and word[3] == "ئ":
        return word[:2] + "ي" + word[4]
    # Masdars of derived verbs drop the long vowel before the last radical so they meet the
    # verb: انسحاب -> انسحب (انسحبت), استهداف -> استهدف, اطلاق -> اطلق.
    if n >= 5 and word[0] == "ا" and word[-2] == "ا":
        return word[:-2] + word[-1]
    return word


# Plurals that no pattern above reaches, with the singular a rule author writes (the term then
# finds both). Kept to frequent words of conflict news whose stem collides with no other word;
# Not taken: أنفاق (also إنفاق, spending), ألغام (reads as ال + غام), قوى (قوات and قوة stay
# apart), and هجمات, the plural of هجمة: a term هجوم that also found it would page the desk for
# news recalling "the recent attacks" (the rocket-attack rule relies on the difference).
_IRREGULAR_PLURALS = {
    "جنود": "جندي",
    "قتلى": "قتيل",
    "جرحى": "جريح",
    "أسرى": "أسير",
    "شهداء": "شهيد",
    "ضحايا": "ضحية",
    "أسلحة": "سلاح",
    "مواقع": "موقع",
    "مناطق": "منطقة",
    "مدن": "مدينة",
    "معارك": "معركة",
    "قنابل": "قنبلة",
    "مدافع": "مدفع",
    "عناصر": "عنصر",
    "قادة": "قائد",
    "ضباط": "ضابط",
    "زعماء": "زعيم",
    "أمراء": "أمير",
    "وزراء": "وزير",
    "رؤساء": "رئيس",
    "سفراء": "سفير",
    "خبراء": "خبير",
    "حلفاء": "حليف",
    "أعداء": "عدو",
    "شهود": "شاهد",
    "جيوش": "جيش",
    "شعوب": "شعب",
    "أفراد": "فرد",
    "أطفال": "طفل",
    "رجال": "رجل",
    "شبان": "شاب",
    "سفن": "سفينة",
    "مراكز": "مركز",
    "معابر": "معبر",
    "منازل": "منزل",
    "بيوت": "بيت",
    "مبان": "مبنى",
    "مساجد": "مسجد",
    "مدارس": "مدرسة",
    "سجون": "سجن",
    "جسور": "جسر",
    "أسواق": "سوق",
    "أهداف": "هدف",
    "أقاليم": "إقليم",
    "أراضي": "أرض",
}
_IRREGULAR = {
    _reduce_suffixes(normalize_arabic(plural)): _reduce_suffixes(normalize_arabic(singular))
    for plural, singular in _IRREGULAR_PLURALS.items()
}


# The article groups by length, longest first: a word starts with at most one of each length.
_ARTICLES_BY_LENGTH = tuple(
    (n, frozenset(a for a in _ARTICLES if len(a) == n))
    for n in sorted({len(a) for a in _ARTICLES}, reverse=True)
)


def _without_article(word: str) -> tuple[str, bool]:
    if not word.startswith(_ARTICLES):
        return word, False
    for n, articles in _ARTICLES_BY_LENGTH:
        if word[:n] in articles and len(word) - n >= _MIN_STEM:
            return word[n:], True
    return word, False


@lru_cache(maxsize=65_536)  # readings() starts from it, and analyse_word asks for both
def stem(word: str) -> str:
    """The primary reading of a normalised word: articles and و/ف stripped, suffixes reduced.

    >>> stem("والقوات") == stem("قواته") == stem("لقواتها")
    True
    """
    base, had_article = _without_article(word)
    if not had_article and base[:1] in _CONJUNCTIONS and len(base) >= 5:
        base, had_article = _without_article(base[1:])
    # A preposition is taken off only when a pronoun suffix shows the word is cliticised.
    cliticised = len(base) >= 5 and base.endswith(_PRONOUNS)
    if not had_article and cliticised and base[:1] in _PREPOSITIONS:
        base = base[1:]
    return _strip_suffixes(base)


def term_stem(word: str) -> str:
    """How a rule term is read: as written (a lemma), only the article ال taken off.

    A lemma has no preposition, so بال, وال ... are its own letters (باليستي, بالون).
    """
    if word.startswith("ال") and len(word) - 2 >= _MIN_STEM:
        word = word[2:]
    return _strip_suffixes(word)


def readings(word: str) -> frozenset[str]:
    """Stems of every plausible segmentation of a normalised word (primary one included).

    >>> sorted(readings("بصواريخ"))
    ['بصواريخ', 'صاروخ']
    """
    # Each base says whether it is the word as written or without a conjunction only: the
    # endings of _ending_variants belong to such words (no tanween after ال or a preposition).
    bases = {word: True}
    _add_segmentations(word, bases)
    if word[:1] in _CONJUNCTIONS:
        rest = word[1:]
        if rest in _GEMINATE_VERBS:
            bases.setdefault(rest, False)  # وشن
        _add_segmentations(rest, bases)
    return frozenset({stem(word)}.union(*map(_base_keys, bases, bases.values())))


def _add_segmentations(rest: str, bases: dict[str, bool]) -> None:
    """``rest`` (a word, or a word without و/ف) as written, as a verb, without a preposition."""
    if len(rest) < _MIN_STEM + 1:
        return
    bases[rest] = True
    _add_verb_bases(rest, bases)
    if len(rest) > 3 and rest[0] in _PREPOSITIONS:
        bases.setdefault(rest[1:], False)
        if rest.startswith("لي"):
            # The lam of purpose before an imperfect: ليسحب, لينسحب. Not before ت:
            # لت is mostly ل + a noun of the تفعيل pattern (لتحرير, لتجنب, لتحديث).
            _add_verb_bases(rest[1:], bases)


@lru_cache(maxsize=131_072)
def _base_keys(base: str, as_written: bool) -> tuple[str, ...]:
    """The stems one segmentation of a word gives. Cached: the words of a text share their
    segmentations (والقوات, بالقوات and القوات all have القوات). A tuple of strings, which the
    garbage collector stops tracking, where a frozenset would be traversed at every collection."""
    keys: set[str] = set()
    geminate = _GEMINATE_FORMS.get(base)
    if geminate:
        keys.add(geminate)
    stripped, had_article = _without_article(base)
    keys.update(map(_strip_suffixes, _ending_variants(stripped, as_written and not had_article)))
    if had_article and as_written and not base.startswith("ال"):
        # بال, وال ... may be the word's own letters (باليستيا, بالونات, والدة).
        keys.update(map(_strip_suffixes, _ending_variants(base, True)))
    return tuple(keys)


def _add_verb_bases(word: str, bases: dict[str, bool]) -> None:
    """Readings of ``word`` as an imperfect verb (prefix off, and its plural or dual ending)."""
    # At most one prefix applies: سي ست سن, else ي ت ن.
    prefix = word[:2] if word[:2] in _VERB_PREFIXES else word[:1]
    if prefix not in _VERB_PREFIXES or len(word) - len(prefix) < 3:
        return
    verb = word[len(prefix) :]
    # Derived forms carry an alef in the perfect that the imperfect drops
    # (ينسحب / انسحب, يستهدف / استهدف), so try both.
    bases.setdefault(verb, False)
    bases.setdefault("ا" + verb, False)
    # After a verb prefix, -un/-aa/-an are verb endings (يضربون, يضربان), not the end of a
    # short name (غارون), so three letters may stay; also before a pronoun (يقصفونها).
    core = _without_pronoun(verb, 5)
    for form in (verb, core):
        if form.endswith(("ون", "وا", "ان")) and len(form) >= 5:
            bases.setdefault(form[:-2], False)


def _without_pronoun(word: str, keep: int) -> str:
    if not word.endswith(_PRONOUNS):
        return word
    for pronoun in _PRONOUNS:
        if word.endswith(pronoun) and len(word) - len(pronoun) >= keep:
            return word[: -len(pronoun)]
    return word


# Words ending in alef that is not tanween (mostly ما compounds: مهما is not مهمة).
_NOT_TANWEEN = frozenset(
    (
        "مهما",
        "كلما",
        "بينما",
        "ربما",
        "حينما",
        "عندما",
        "طالما",
        "انما",
        "كانما",
        "حيثما",
        "اينما",
        "كيفما",
        "قلما",
        "بعدما",
        "مثلما",
        "فيما",
        "هكذا",
    )
)


# The last letters of every ending below (pronouns, -iyyat, -ti, tanween, -uu): a word ending
# otherwise (قاعدة, صاروخ) hides nothing.
_VARIANT_ENDINGS = frozenset("امنهتيو")


def _ending_variants(word: str, bare: bool) -> set[str]:
    """The word, and what its ending may hide; only ever extra readings of an article word.

    Readings, not the primary stem, because each could turn a rare word into another one
    (سوريا would be سوري); the rule terms decide which reading is meant. ``bare``: the word
    has no article, preposition or verb prefix, as tanween and construct endings require.
    """
    if word[-1:] not in _VARIANT_ENDINGS:
        return {word}
    variants = {word}
    core = _without_pronoun(word, 3)
    if core.endswith("يات") and len(core) >= 6:
        # The plural of a word ending in -ya: ميليشيات(ها) -> ميليشيا.
        variants.add(core[:-1])
    if word.endswith("تي") and len(word) >= 5:
        # "my" after teh marbuta: قاعدتي, مسيرتي.
        variants.add(word[:-1])
    if core != word and core.endswith("ا") and len(core) >= 4:
        variants.add(core[:-1] + "ي")  # alef maksura before a pronoun: جرحاهم (جرحى)
    if not bare:
        return variants
    if word.endswith("ا") and len(word) >= 4 and word not in _NOT_TANWEEN:
        # Accusative tanween (صاروخا, هجوما, عسكريا), the dual perfect (هاجما) and
        # the construct dual (مقاتلتا). Three letters must stay: غزا is not غزة.
        variants.add(word[:-1])
    elif word.endswith("و") and len(word) >= 5 and word.startswith("م"):
        # The construct plural of participles (مسلحو, مقاتلو); not يونيو, فيديو.
        variants.add(word[:-1])
    if core != word and len(core) >= 4:
        if core.endswith("و"):
            variants.add(core[:-1])  # -uu of the perfect plural before a pronoun: أطلقوه
        elif core.endswith("نا") and len(core) >= 5:
            variants.add(core[:-2])  # a subject "we" before an object pronoun: دمرناها
    return variants


# Doubled verbs that are two letters when written plainly (شن "launched", دك "pounded"); the
# stemmer keeps three letters, so their inflected forms are listed. Not رد or فر: with و they
# are other words (ورد "was mentioned", وفر "provided"); no ن or alef prefix (نفر, أمد).
_GEMINATE_VERBS = ("شن", "صد", "دك", "هز")
_GEMINATE_FORMS = {
    prefix + verb + ending + pronoun: verb
    for verb in _GEMINATE_VERBS
    for prefix in ("", "ي", "ت", "سي", "ست")
    for ending in ("", "ت", "وا", "نا", "تم", "ون", "ان", "ا")
    for pronoun in ("", "ه", "ها", "هم", "هما", "كم", "نا")
}
