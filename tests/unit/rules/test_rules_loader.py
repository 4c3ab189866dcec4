"""Rule files: strict schema, every error with file:line:column, good files kept."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from rasd.models import Severity
from rasd.rules import load_rules, parse_rules
from rasd.rules.schema import json_schema

REPO = Path(__file__).resolve().parents[3]

GOOD = """\
id: rocket-attack
title: Rocket attack
severity: high
tags: [attack]
match:
  all:
    - any: [صاروخ, rocket]
    - any: [قاعدة عسكرية, base]
  none: [مناورات, exercise]
  near: {terms: [هجوم, [صاروخ, rocket]], within: 3}
fields: [title, summary]
lang: [ar, en]
places: [iraq]
escalate: {window: 24h, threshold: 3, by: place, severity: critical}
notify: [iraq-desk]
cooldown: 1h
"""


def test_a_valid_rule_loads_with_typed_values():
    result = parse_rules(GOOD, "rocket.yaml")
    assert result.errors == []
    (rule,) = result.rules
    assert rule.severity is Severity.high
    assert rule.cooldown == timedelta(hours=1)
    assert rule.escalate.window == timedelta(hours=24)
    assert rule.escalate.threshold == 3 and rule.escalate.by == "place"
    assert rule.notify == ("iraq-desk",) and rule.places == ("iraq",)
    assert rule.source == "rocket.yaml"
    assert len(rule.version) == 12


def test_version_is_stable_and_follows_content():
    first = parse_rules(GOOD, "a.yaml").rules[0].version
    assert parse_rules(GOOD, "b.yaml").rules[0].version == first
    changed = GOOD.replace("threshold: 3", "threshold: 4")
    assert parse_rules(changed, "a.yaml").rules[0].version != first


def test_every_error_of_a_file_is_reported_with_line_and_column():
    text = """\
id: Bad Id
title: X
severity: hgh
match:
  all:
    - any: [rocket, 5]
    - {anyy: [base]}
  none: []
feilds: [title]
places: [kirkukk]
cooldown: 1 hour
escalate: {window: 24h, threshold: 1}
"""
    errors = [str(e) for e in parse_rules(text, "bad.yaml").errors]
    assert errors == [
        "bad.yaml:1:5: id: 'Bad Id' is not a valid name: use lowercase letters, digits and dashes"
        " (like rocket-attack)",
        "bad.yaml:3:11: severity: Input should be 'info', 'low', 'medium', 'high' or 'critical'",
        "bad.yaml:6:21: match.all.0.any.1: Input should be a valid string",
        "bad.yaml:7:8: unknown key 'anyy'; did you mean 'any'?",
        "bad.yaml:8:9: match.none: must not be empty",
        "bad.yaml:10:9: places: unknown place 'kirkukk'; did you mean 'kirkuk'?",
        "bad.yaml:11:11: cooldown: '1 hour' is not a duration; expected a duration such as"
        " 500ms, 30s, 5m, 1h30m, 2d, 1w or a number of seconds",
        "bad.yaml:12:36: escalate.threshold: Input should be greater than or equal to 2",
        "bad.yaml:9:1: unknown key 'feilds'; did you mean 'fields'?",
    ]


def test_missing_keys_point_at_the_rule():
    errors = parse_rules("- id: a\n  title: A\n- id: b\n  match: {any: [x]}\n", "m.yaml").errors
    assert [str(e) for e in errors] == [
        "m.yaml:1:3: missing required key 'match'",
        "m.yaml:3:3: missing required key 'title'",
    ]


def test_none_alone_is_refused():
    errors = parse_rules("id: a\ntitle: A\nmatch: {none: [x]}\n", "n.yaml").errors
    assert len(errors) == 1
    assert "needs 'any', 'all' or 'near'" in errors[0].message
    assert (errors[0].line, errors[0].column) == (3, 8)


def test_yaml_syntax_errors_and_duplicate_keys_are_located():
    (syntax,) = parse_rules("id: a\ntitle: [unclosed\n", "s.yaml").errors
    assert syntax.path == "s.yaml" and syntax.line == 3 and "invalid YAML" in syntax.message
    dup = parse_rules("id: a\ntitle: A\ntitle: B\nmatch: {any: [x]}\n", "d.yaml").errors
    assert [str(e) for e in dup] == ["d.yaml:3:1: duplicate key 'title'"]
    (empty,) = parse_rules("", "e.yaml").errors
    assert "empty" in empty.message


def test_a_list_of_rules_keeps_the_good_ones():
    text = """\
- id: one
  title: One
  match: {any: [انسحاب]}
- id: two
  title: Two
  match: {any: [withdrawal]}
  colour: red
- id: one
  title: Again
  match: {any: [x]}
"""
    result = parse_rules(text, "list.yaml")
    assert [r.id for r in result.rules] == ["one"]
    assert [str(e) for e in result.errors] == [
        "list.yaml:7:3: unknown key 'colour'",
        "list.yaml:8:7: duplicate rule id 'one' (first at line 1)",
    ]


def test_a_bad_file_never_hides_good_ones_and_duplicates_across_files_are_caught(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\ntitle: A\nmatch: {any: [rocket]}\n")
    (tmp_path / "b.yml").write_text("id: b\ntitle: B\nmatch: {any: [mortar]}\nseverity: huge\n")
    (tmp_path / "c.yaml").write_text("id: a\ntitle: C\nmatch: {any: [drone]}\n")
    (tmp_path / "d.yaml").write_text("id: d\ntitle: [\n")
    (tmp_path / "notes.txt").write_text("not a rule")
    result = load_rules(tmp_path)
    assert [r.id for r in result.rules] == ["a"]
    messages = [str(e).removeprefix(str(tmp_path) + "/") for e in result.errors]
    assert messages[0].startswith("b.yml:4:11: severity:")
    assert messages[1] == f"c.yaml:1:5: duplicate rule id 'a' (also in {tmp_path / 'a.yaml'})"
    assert messages[2].startswith("d.yaml:3:1: invalid YAML")


def test_a_missing_directory_is_an_error(tmp_path):
    result = load_rules(tmp_path / "nope")
    assert result.rules == [] and "not a directory" in result.errors[0].message


def test_rule_objects_are_frozen():
    rule = parse_rules(GOOD, "r.yaml").rules[0]
    try:
        rule.id = "other"
    except Exception:  # pydantic raises ValidationError for frozen models
        return
    raise AssertionError("rule is mutable")


def test_schema_json_is_up_to_date():
    shipped = json.loads((REPO / "rules" / "schema.json").read_text(encoding="utf-8"))
    assert shipped == json_schema(), "run: python -m rasd rules schema > rules/schema.json"


def test_schema_refuses_unknown_keys():
    rule = json_schema()["$defs"]["Rule"]
    assert rule["additionalProperties"] is False
    assert json_schema()["$defs"]["Condition"]["additionalProperties"] is False


def test_yaml_aliases_are_refused_so_a_bomb_cannot_expand():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    (error,) = parse_rules(bomb, "bomb.yaml").errors
    assert (error.line, error.column) == (2, 8)
    assert "aliases" in error.message
