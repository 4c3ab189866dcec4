"""`rasd rules check` and `rasd rules test`, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rasd.cli import app

REPO_RULES = Path(__file__).resolve().parents[3] / "rules"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def rules_test(runner: CliRunner, source: Path, *extra: str):
    return runner.invoke(
        app, ["rules", "test", "--rules", str(REPO_RULES), "--input", str(source), *extra]
    )


def test_check_passes_on_the_shipped_rules(runner):
    result = runner.invoke(app, ["rules", "check", str(REPO_RULES)])
    assert result.exit_code == 0, result.output
    assert "rule(s) valid" in result.output


def test_check_prints_every_error_and_exits_1(runner, tmp_path):
    (tmp_path / "good.yaml").write_text("id: good\ntitle: Good\nmatch: {any: [rocket]}\n")
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: Bad\nmatch: {any: [x]}\nsevrity: high\n")
    (tmp_path / "z_dup.yaml").write_text("id: good\ntitle: Again\nmatch: {any: [y]}\n")
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"{tmp_path / 'bad.yaml'}:4:1: unknown key 'sevrity'; did you mean 'severity'?" in lines
    assert any(
        line.startswith(f"{tmp_path / 'z_dup.yaml'}:1:5: duplicate rule id") for line in lines
    )


JSONL = "\n".join(
    [
        json.dumps(
            {"id": "a1", "title": "التحالف الدولي يسحب قواته من قاعدة كركوك", "lang": "ar"},
            ensure_ascii=False,
        ),
        "{not json",
        json.dumps({"id": "a2", "title": "Markets calm", "description": "Nothing happened."}),
        json.dumps(["not", "an", "object"]),
        json.dumps(
            {
                "id": "a3",
                "title": "Rockets hit Ain al-Asad air base",
                "description": "The base hosts US troops.",
                "lang": "en",
            }
        ),
    ]
)


def test_test_prints_json_per_match_and_skips_bad_lines(runner, tmp_path):
    source = tmp_path / "items.jsonl"
    source.write_text(JSONL + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["rules", "test", "--rules", str(REPO_RULES), "--input", str(source), "--json"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    pairs = {(r["article_id"], r["rule"]) for r in records}
    assert ("a1", "troop-withdrawal") in pairs and ("a3", "rocket-attack") in pairs
    assert not any(article == "a2" for article, _ in pairs)
    for record in records:
        assert set(record) == {"article_id", "rule", "tags", "severity", "terms", "places"}
    withdrawal = next(r for r in records if r["rule"] == "troop-withdrawal")
    assert withdrawal["tags"] == ["withdrawal"] and "kirkuk" in withdrawal["places"]
    assert {"term", "field", "start", "end", "text"} == set(withdrawal["terms"][0])
    assert f"{source}:2: skipped" in result.stderr
    assert f"{source}:4: skipped" in result.stderr


def test_test_human_output_and_exit_0_without_matches(runner, tmp_path):
    source = tmp_path / "calm.jsonl"
    source.write_text(json.dumps({"id": "c", "title": "Weather is fine"}) + "\n")
    result = runner.invoke(
        app, ["rules", "test", "--rules", str(REPO_RULES), "--input", str(source)]
    )
    assert result.exit_code == 0
    assert "0 of 1 article(s) matched" in result.stderr


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Shafaq News</title><language>ar</language>
<item><title>سقوط صواريخ على قاعدة عين الأسد</title><link>https://example.test/1</link>
<description>استهداف القاعدة التي تضم قوات أميركية غربي الأنبار</description></item>
<item><title>Nothing</title><link>https://example.test/2</link></item>
</channel></rss>"""


def test_test_reads_rss(runner, tmp_path):
    source = tmp_path / "feed.xml"
    source.write_text(RSS, encoding="utf-8")
    result = runner.invoke(
        app, ["rules", "test", "--rules", str(REPO_RULES), "--input", str(source)]
    )
    assert result.exit_code == 0, result.output
    assert "rocket-attack [high]" in result.stdout
    assert "ain-al-asad" in result.stdout


def test_test_refuses_hostile_xml(runner, tmp_path):
    source = tmp_path / "bomb.xml"
    source.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<rss><channel><title>&b;</title></channel></rss>"
    )
    result = runner.invoke(
        app, ["rules", "test", "--rules", str(REPO_RULES), "--input", str(source)]
    )
    assert result.exit_code == 2
    assert "not a safe, well-formed XML feed" in result.stderr


def test_schema_command_prints_the_schema(runner):
    result = runner.invoke(app, ["rules", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$defs"]["Rule"]["additionalProperties"] is False


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>Desk</title>
<entry><id>urn:1</id><title>Calm day</title>
<content type="html">Ten US soldiers were wounded when a drone attack hit Tower 22
in Jordan.</content>
</entry></feed>"""


def test_test_reads_atom_content_as_body(runner, tmp_path):
    source = tmp_path / "feed.atom"
    source.write_text(ATOM, encoding="utf-8")
    result = rules_test(runner, source, "--json")
    assert result.exit_code == 0, result.output
    rules = {json.loads(line)["rule"] for line in result.stdout.splitlines()}
    assert "rocket-attack" in rules  # found in the body; the title alone is calm
    places = {p for line in result.stdout.splitlines() for p in json.loads(line)["places"]}
    assert {"tower-22", "jordan"} <= places
