"""The gazetteer: the shipped places, their hierarchy, and the build from GeoNames data."""

from __future__ import annotations

import json

import pytest

from rasd.models import Article
from rasd.rules import Matcher, default_gazetteer, parse_rules
from rasd.rules.gazetteer import parse_gazetteer
from rasd.rules.gazetteer_build import (
    CURATED,
    OUTPUT,
    Lexicon,
    arabic_names,
    build,
    geonames_cities,
    render,
)
from rasd.text import script_language
from rasd.yamlerrors import ConfigInvalid

# Every id of the first, hand-written gazetteer: rules' `places:` and tests name them.
FIRST_IDS = [
    "iraq",
    "syria",
    "iran",
    "turkey",
    "jordan",
    "kuwait",
    "saudi-arabia",
    "lebanon",
    "israel",
    "kurdistan-region",
    "baghdad",
    "basra",
    "nineveh",
    "kirkuk",
    "erbil",
    "sulaymaniyah",
    "duhok",
    "halabja",
    "anbar",
    "salahuddin",
    "diyala",
    "babil",
    "karbala",
    "najaf",
    "wasit",
    "maysan",
    "dhi-qar",
    "muthanna",
    "qadisiyah",
    "mosul",
    "sinjar",
    "tal-afar",
    "fallujah",
    "ramadi",
    "al-qaim",
    "haditha",
    "hit",
    "rutba",
    "tikrit",
    "samarra",
    "baiji",
    "tuz-khurmatu",
    "hawija",
    "baqubah",
    "hillah",
    "jurf-al-sakhar",
    "kut",
    "amarah",
    "nasiriyah",
    "samawah",
    "umm-qasr",
    "zubair",
    "makhmour",
    "zakho",
    "abu-ghraib",
    "green-zone",
    "k1",
    "ain-al-asad",
    "al-qaim-base",
    "qayyarah",
    "erbil-airport",
    "harir",
    "baghdad-airport",
    "victory-base",
    "taji",
    "balad-airbase",
    "speicher",
    "union-iii",
    "tallil",
    "habbaniyah",
    "bashur",
    "damascus",
    "aleppo",
    "deir-ez-zor",
    "hasakah",
    "albu-kamal",
    "al-tanf",
    "conoco-field",
    "omar-field",
    "tehran",
    "ankara",
    "amman",
    "tower-22",
    "kuwait-city",
    "riyadh",
    "beirut",
]

_PROBE = parse_rules("id: p\ntitle: p\nmatch: {any: [probe]}\n", "p.yaml").rules


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(_PROBE)


def places_in(matcher: Matcher, title: str) -> list[str]:
    article = Article(id="1", outlet="o", feed="f", lang=script_language(title), title=title)
    hits, _ = matcher._find(article)
    return matcher._places(hits, frozenset({"title"}))


def test_every_id_of_the_first_gazetteer_is_kept():
    assert len(FIRST_IDS) == 86
    assert not set(FIRST_IDS) - set(default_gazetteer().ids)


def test_the_region_is_covered_with_governorates_as_parents():
    gazetteer = default_gazetteer()
    kinds = {p.id: p.kind for p in gazetteer.places}
    yemen = [p.id for p in gazetteer.places if p.kind == "governorate" and p.within == "yemen"]
    assert len(yemen) >= 22  # every governorate of Yemen
    for place in ("gaza-strip", "jazan", "najran", "afrin", "idlib", "hodeidah", "misrata"):
        assert place in kinds, place
    assert gazetteer.ancestors("afrin") == ["aleppo", "syria"]
    assert gazetteer.ancestors("khan-yunis") == ["gaza-strip", "palestine"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("غارات إسرائيلية على خان يونس", ["khan-yunis", "gaza-strip", "palestine"]),
        ("Israeli strikes hit homes in Khan Younis", ["khan-yunis", "gaza-strip", "palestine"]),
        ("مقتل ثلاثة مدنيين بقصف على مدينة الحديدة", ["hodeidah", "yemen"]),
        ("Houthi drone targets Jazan", ["jazan", "saudi-arabia"]),
        ("قصف مدفعي يستهدف بلدة في ريف إدلب", ["idlib", "syria"]),
        ("Turkish shelling on Afrin", ["afrin", "aleppo", "syria"]),
        ("RSF attack on El Fasher", ["el-fasher", "north-darfur", "sudan"]),
        ("قوات في منبج وجرابلس", ["manbij", "jarabulus", "aleppo", "syria"]),
        ("سقوط صواريخ على قاعدة عين الأسد", ["ain-al-asad", "anbar", "iraq"]),
        ("هجوم على معبر رفح", ["rafah-crossing", "gaza-strip", "palestine"]),
    ],
)
def test_a_city_counts_for_its_governorate_and_country(matcher, title, expected):
    found = places_in(matcher, title)
    assert [p for p in found if p in expected] == expected


@pytest.mark.parametrize(
    "title",
    [
        "الحرب على السلام والحرية",  # war, peace, freedom: also towns' names
        "تطوير السكك الحديدية وصناعة الحديد",  # railway, iron: read like الحديدة
        "نتائج الرياضة اليوم",  # sport: reads like الرياض
        "مصدر الخبر في الخارجية",  # the news (al-Khobar), the foreign ministry (Kharga)
        "Hamas says the deal is safe, the White House says",  # Hama, Safed, Casablanca
        "The salt price hit a record",  # As-Salt, Hit
    ],
)
def test_common_words_are_not_places(matcher, title):
    assert places_in(matcher, title) == []


def test_parse_gazetteer_reads_yaml_and_the_built_json():
    yaml_text = "- {id: a, kind: country, en: [A]}\n- {id: b, kind: city, in: a, en: [B]}\n"
    document = {"places": [{"id": "a", "kind": "country", "en": ["A"]}]}
    assert parse_gazetteer(yaml_text).ancestors("b") == ["a"]
    assert parse_gazetteer(json.dumps(document)).ids == ["a"]
    with pytest.raises(ValueError, match="unknown parent"):
        parse_gazetteer("- {id: b, kind: city, in: nowhere}\n")


def test_a_gazetteer_with_a_repeated_key_is_refused_where_it_repeats():
    text = "- id: a\n  kind: country\n  en: [A]\n  en: [B]\n"
    with pytest.raises(ConfigInvalid, match=r"places.yaml:4:3: duplicate key 'en'"):
        parse_gazetteer(text, "places.yaml")


# The build, on a made-up country and word list (the rules, not GeoNames' data).
CURATED_TEXT = """
countries:
  XA: {id: xland, cities: 5000, en: [Xland], ar: [إكسلاند]}
admin1:
  XA:
    "01": {id: north, en: [North Province], ar: [محافظة الشمال]}
    "02": {id: qarya, en: [Qarya]}
ambiguous:
  refuse: {ar: [السلام], en: [Peace]}
  qualify: {ar: [صور], en: []}
places:
- {id: old-town, kind: city, in: north, en: [Old Town], ar: [البلدة القديمة]}
"""


def city(geonameid, name, admin1, population, *alternates):
    return {
        "geonameid": geonameid,
        "name": name,
        "countrycode": "XA",
        "admin1code": admin1,
        "population": population,
        "alternatenames": list(alternates),
    }


@pytest.fixture(scope="module")
def built() -> dict[str, dict]:
    cities = {
        str(c["geonameid"]): c
        for c in (
            city(1, "Ḩadīdah", "01", 50_000, "Hadida", "الحديدة", "حدیده"),
            city(2, "Qarya", "02", 90_000, "قرية"),
            city(3, "Old Town", "01", 20_000, "البلدة القديمة", "Altstadt"),
            city(4, "Sur", "01", 30_000, "صور"),
            city(5, "As Salam", "01", 10_000, "السلام", "Peace"),
            city(6, "Tiny", "01", 900, "صغيرة"),
            city(7, "Bayt Lahm", "09", 8_000, "بیت لحم", "بيت لحم", "White House"),
            city(8, "Dawra", "01", 12_000, "الدورة"),
        )
    }
    lexicons = {
        "ar": Lexicon("ar", [("الحديد", 4.8), ("الدورة", 4.9), ("قرية", 4.0)]),
        "en": Lexicon("en", [("white", 5.5)]),
    }
    document = build(CURATED_TEXT, cities, lexicons)
    return {p["id"]: p for p in document["places"]}


def test_build_gives_cities_their_admin1_parent_or_their_country(built):
    assert built["hadidah"]["in"] == "north"
    assert built["bayt-lahm"]["in"] == "xland"  # admin1 09 is not mapped
    assert built["north"] == {
        "id": "north",
        "en": ["North Province"],
        "ar": ["محافظة الشمال"],
        "kind": "governorate",
        "in": "xland",
    }


def test_build_keeps_arabic_spellings_and_drops_persian_ones(built):
    # بیت لحم is written with a Persian yeh.
    assert built["bayt-lahm"]["ar"] == ["بيت لحم"]
    assert built["bayt-lahm"]["en"] == ["Bayt Lahm"]  # "White House" is not a spelling of it
    # غزه is the Persian ending of غزة; کرکوک has Persian kafs.
    names = arabic_names({"alternatenames": ["غزه", "غزة", "کرکوک", "Gaza"]})
    assert names == ["غزة"]


def test_build_refuses_names_that_read_like_common_words(built):
    # الحديدة reads like الحديد (iron), more frequent: the town keeps its English names only.
    assert built["hadidah"].get("ar") is None
    assert built["hadidah"]["en"] == ["Hadidah", "Hadida"]
    # The curated refusals, and a town whose own name is a frequent word (الدورة, a session).
    assert built["as-salam"].get("ar") is None and built["as-salam"]["en"] == ["Salam"]
    assert built["dawra"].get("ar") is None
    # A qualified name is kept only in phrases.
    assert built["sur"]["ar"] == ["مدينة صور", "محافظة صور", "بلدة صور"]


def test_build_joins_a_city_to_the_hand_kept_place_of_that_name(built):
    # Qarya city is its province: one place, which takes the city's Arabic name...
    assert "qarya-xa" not in built and built["qarya"]["kind"] == "governorate"
    assert built["qarya"]["ar"] == ["قرية"]
    # ... and a hand-kept place keeps its own names.
    assert built["old-town"]["en"] == ["Old Town"]
    assert "old-town-xa" not in built


def test_build_leaves_out_towns_below_the_population_threshold(built):
    assert "tiny" not in built


def test_shipped_gazetteer_is_what_the_build_makes():
    document = build(CURATED.read_text(encoding="utf-8"), geonames_cities())
    assert OUTPUT.read_text(encoding="utf-8") == render(document), (
        "run: python -m rasd.rules.gazetteer_build"
    )
