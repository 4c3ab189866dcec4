"""Every real word form in tests/fixtures/text/arabic_families.tsv reaches its family, or not.

A row says: the rule term ``family``, written plainly, must (``yes``) or must not (``no``) find
the article word ``form``. This is how the matcher decides (rasd/rules/matcher.py): the term's
key is one of the token's readings. All failing rows are reported at once.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from rasd.text import analyse, arabic

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "text" / "arabic_families.tsv"


class FamilyRow(NamedTuple):
    line: int
    form: str
    family: str
    expect: bool
    kind: str


def family_rows() -> list[FamilyRow]:
    with FIXTURE.open(encoding="utf-8") as handle:
        lines = [(n, line) for n, line in enumerate(handle, 1) if not line.startswith("#")]
    reader = csv.DictReader((line for _, line in lines), delimiter="\t")
    return [
        FamilyRow(number, row["form"], row["family"], row["expect"] == "yes", row["kind"])
        for (number, _), row in zip(lines[1:], reader, strict=True)
    ]


def reaches(term: str, form: str) -> bool:
    (term_token,) = analyse(term, "ar", as_term=True)
    (token,) = analyse(form, "ar")
    return term_token.key in token.forms


def test_the_list_is_large_and_covers_every_kind():
    rows = family_rows()
    kinds = Counter(row.kind for row in rows)
    assert len(rows) >= 300
    assert all(row.expect in (True, False) for row in rows)
    for kind in (
        "tanween",
        "imperfect",
        "perfect",
        "sound-plural",
        "broken-plural",
        "irregular-plural",
        "masdar",
        "clitic",
        "dual",
        "negative",
    ):
        assert kinds[kind] >= 10, kind
    assert len({(row.form, row.family) for row in rows}) == len(rows), "duplicate rows"


def test_every_form_reaches_its_family_and_no_lookalike_is_merged():
    failures = [
        f"{FIXTURE.name}:{row.line}: {row.form} {'should reach' if row.expect else 'merged with'}"
        f" {row.family} ({row.kind})"
        for row in family_rows()
        if reaches(row.family, row.form) != row.expect
    ]
    assert not failures, f"{len(failures)} rows fail:\n" + "\n".join(failures)


def test_each_curated_plural_and_its_singular_find_each_other():
    # Terms and articles share the table, so a rule may name either form.
    failures = [
        f"{plural} / {singular}"
        for plural, singular in arabic._IRREGULAR_PLURALS.items()
        if not (reaches(singular, plural) and reaches(plural, singular))
    ]
    assert not failures, failures


def test_doubled_verbs_are_found_in_their_inflections():
    assert all(reaches("شن", form) for form in ("شنت", "تشن", "وشن", "شنوا", "يشنها", "ستشن"))
    assert not reaches("شن", "بواشنطن")
