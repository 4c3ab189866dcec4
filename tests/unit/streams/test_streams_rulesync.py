"""What the rules publisher sends to the rules topic for a given directory."""

from __future__ import annotations

import json

from rasd.streams.deadletters import MAX_RAW, dead_letter
from rasd.streams.rulesync import load_record, plan

CUP = """\
id: cup-final
title: Cup final
match:
  any: [cup final, نهائي الكأس]
"""
RAIN = """\
- id: heavy-rain
  title: Heavy rain
  match: {any: [heavy rain, أمطار غزيرة]}
- id: flood
  title: Flood
  match: {any: [flood, فيضانات]}
"""


def test_new_files_publish_every_rule_with_its_file_text():
    todo = plan({"cup.yaml": CUP, "weather.yaml": RAIN}, {})
    assert sorted(todo.publish) == ["cup-final", "flood", "heavy-rain"]
    assert todo.publish["flood"].yaml == RAIN and todo.publish["flood"].path == "weather.yaml"
    assert todo.delete == [] and todo.errors == {}


def test_unchanged_rules_publish_nothing_and_edits_publish_the_new_version():
    current = plan({"cup.yaml": CUP, "weather.yaml": RAIN}, {}).publish
    assert plan({"cup.yaml": CUP, "weather.yaml": RAIN}, current).publish == {}
    edited = plan(
        {"cup.yaml": CUP.replace("Cup final\n", "Final\n"), "weather.yaml": RAIN}, current
    )
    assert list(edited.publish) == ["cup-final"]
    assert edited.publish["cup-final"].version != current["cup-final"].version


def test_a_broken_file_keeps_its_rules_and_reports_where():
    current = plan({"cup.yaml": CUP, "weather.yaml": RAIN}, {}).publish
    todo = plan(
        {"cup.yaml": CUP, "weather.yaml": RAIN.replace("title: Flood", "titel: x")}, current
    )
    assert todo.publish == {} and todo.delete == []
    errors = todo.errors["weather.yaml"]
    assert errors and all(e.startswith("weather.yaml:") for e in errors)


def test_removed_files_and_rules_are_deleted():
    current = plan({"cup.yaml": CUP, "weather.yaml": RAIN}, {}).publish
    only_rain = RAIN.split("- id: flood")[0]
    todo = plan({"weather.yaml": only_rain}, current)
    assert sorted(todo.delete) == ["cup-final", "flood"]


def test_a_rule_id_defined_twice_is_an_error_of_the_second_file():
    todo = plan({"a.yaml": CUP, "b.yaml": CUP}, {})
    assert list(todo.publish) == ["cup-final"]
    assert "duplicate rule id 'cup-final' (also in a.yaml)" in todo.errors["b.yaml"][0]


def test_a_record_loads_the_rule_of_its_key():
    published = plan({"weather.yaml": RAIN}, {}).publish
    rule, errors = load_record("flood", published["flood"])
    assert rule.id == "flood" and errors == []
    rule, errors = load_record("drought", published["flood"])
    assert rule is None and "drought" in errors[0]


def test_a_dead_letter_keeps_the_start_of_the_raw_record():
    letter = json.loads(dead_letter("t.articles", 2, 41, "not JSON", b"\xff" + b"x" * 10000))
    assert letter["topic"] == "t.articles" and letter["partition"] == 2 and letter["offset"] == 41
    assert letter["reason"] == "not JSON"
    assert len(letter["raw"]) == MAX_RAW and letter["raw"].startswith("\ufffd")
