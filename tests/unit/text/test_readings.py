"""The precomputed Arabic readings: what the analyser computes, and refused when stale."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from rasd.text import analysis, arabic, readings
from rasd.text.normalize import normalize_arabic
from rasd.text.readings_build import build, entries

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "text"


def fixture_words() -> list[str]:
    words = []
    for path in sorted(FIXTURES.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith(("#", "form\t")):
                words.extend(line.split("\t")[:2])
    return words


def test_shipped_table_is_what_the_build_makes():
    assert readings.TABLE.read_bytes() == build(), "run: python -m rasd.text.readings_build"


def test_shipped_table_is_used_and_gives_what_the_analyser_computes():
    table = readings.table()
    assert table is not None and len(table) > 150_000
    assert analysis._PRECOMPUTED is table.get
    found = 0
    for word in fixture_words():
        norm = normalize_arabic(word)
        forms = table.get(norm)
        if forms is None:
            continue
        found += 1
        assert forms[0] == arabic.stem(norm), word
        assert frozenset(forms) == arabic.readings(norm) and len(set(forms)) == len(forms), word
    assert found > 300  # the fixtures' frequent words are in it


def test_an_article_word_reads_the_same_with_and_without_the_table(monkeypatch):
    words = [*fixture_words(), "والقوات", "قصف", "ـ", "بالـقوات", "2021", "Israel", "USAقوة"]
    with_table = [analysis.read_word(w, "ar") for w in words]
    monkeypatch.setattr(analysis, "_PRECOMPUTED", None)
    assert [analysis.read_word(w, "ar") for w in words] == with_table


def write(path: Path, table: dict[str, tuple[str, ...]], fingerprint: str) -> Path:
    path.write_bytes(readings.encode({"fingerprint": fingerprint}, table))
    return path


def test_a_table_round_trips_with_keys_first_and_identities_empty(tmp_path):
    table = entries(["القوات", "والقوات", "صواريخ", "قصف", "قصف", "xyz", "ـ"])
    assert set(table) == {"القوات", "والقوات", "صواريخ", "قصف"}
    loaded = readings.load(write(tmp_path / "t.bin", table, "f"), expected="f")
    assert loaded is not None and len(loaded) == 4
    for word, forms in table.items():
        assert loaded.get(word) == forms
    assert loaded.get("قصف") == ("قصف",)
    assert loaded.get("غارة") is None


def test_a_table_built_by_other_analysis_code_is_refused_and_said(tmp_path, caplog):
    path = write(tmp_path / "t.bin", {"قصف": ("قصف",)}, "the fingerprint of older code")
    with caplog.at_level(logging.WARNING, logger="rasd.text.readings"):
        assert readings.load(path) is None
    assert "built by other analysis code" in caplog.text
    assert "python -m rasd.text.readings_build" in caplog.text


@pytest.mark.parametrize("damage", ["truncated", "not json", "missing", "other format"])
def test_a_damaged_table_is_refused_and_said(tmp_path, caplog, damage):
    path = write(tmp_path / "t.bin", entries(["القوات", "صواريخ", "قصف"]), "f")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[:-7])
    elif damage == "not json":
        path.write_bytes(b"{" + data)
    elif damage == "missing":
        path.unlink()
    else:
        header, _, rest = data.partition(b"\n")
        path.write_bytes(json.dumps({**json.loads(header), "format": 0}).encode() + b"\n" + rest)
    with caplog.at_level(logging.WARNING, logger="rasd.text.readings"):
        assert readings.load(path, expected="f") is None
    assert "not used" in caplog.text


def test_the_fingerprint_follows_the_stemmer_source(monkeypatch, tmp_path):
    before = readings.fingerprint()
    changed = tmp_path / "arabic.py"
    changed.write_bytes(Path(arabic.__file__).read_bytes() + b"\n# a change\n")
    monkeypatch.setattr(arabic, "__file__", str(changed))
    assert readings.fingerprint() != before
