"""`rasd rules eval` and the JSONL reader's dates, ids and language, through typer's CliRunner.

The items are written for these tests; the rules are small ones of the test's own so that the
figures are known by construction.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rasd.cli import app
from rasd.rules import parse_rules
from rasd.rules.evaluation import evaluate, read_labels
from rasd.rules.matcher import Matcher
from rasd.rules.testinput import read_articles

RULES = """\
- id: shelling
  title: Shelling
  tags: [attack]
  match:
    any: [قصف, shelling, rocket]
    none: [مناورات, drill]
- id: pullout
  title: Pull-out
  tags: [withdrawal]
  match:
    near: {terms: [[انسحاب, withdraw], [قوات, troops]], within: 3}
"""

ITEMS = [
    {
        "id": "ar1",
        "title": "قصف مدفعي يستهدف بلدة في ريف إدلب",
        "pubDate": "Mon, 26 Feb 2018 22:48:31 GMT",
    },
    {
        "id": "ar2",
        "title": "مناورات بالذخيرة الحية تشمل قصف أهداف وهمية",
        "published": "2018-02-26T10:00:00Z",
    },
    {"id": "ar3", "title": "انسحاب القوات الأجنبية من القاعدة", "lang": "ar"},
    {"id": "ar4", "title": "الدفاعات الجوية تعترض طائرة مسيرة فوق المدينة"},
    {"id": "en1", "title": "Rocket fire hits a town near the border", "lang": "en"},
    {
        "id": "en2",
        "title": "Prices of fuel keep rising",
        "description": "No rocket here, only markets.",
    },
    {"id": "en3", "title": "Amid shelling, families queue for bread", "lang": "en"},
    {"link": "https://example.org/n/7", "title": "Troops withdraw from the northern base"},
]
LABELS = [
    {"id": "ar1", "labels": ["ATTACK"], "status": "judged", "pool": "keyword"},
    {"id": "ar2", "labels": [], "status": "judged", "pool": "keyword"},
    {"id": "ar3", "labels": ["WITHDRAWAL"], "status": "judged", "pool": "keyword"},
    {"id": "ar4", "labels": ["ATTACK"], "status": "judged", "pool": "keyword"},
    {"id": "en1", "labels": ["ATTACK"], "status": "judged", "pool": "keyword"},
    {"id": "en2", "labels": [], "status": "unjudged-noncandidate", "pool": "unjudged"},
    {"id": "en3", "labels": ["ATTACK"], "status": "judged", "pool": "keyword", "note": "ctx"},
    {"id": "https://example.org/n/7", "labels": ["WITHDRAWAL"], "status": "judged"},
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


@pytest.fixture
def files(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "all.yaml").write_text(RULES, encoding="utf-8")
    return rules, _jsonl(tmp_path / "items.jsonl", ITEMS), _jsonl(tmp_path / "labels.jsonl", LABELS)


def _report(files):
    rules, items, labels = files
    matcher = Matcher(parse_rules(RULES, "all.yaml").rules)
    errors: list[str] = []
    articles = list(read_articles(items, on_error=errors.append))
    return evaluate(articles, read_labels(labels, on_error=errors.append), matcher), errors


def test_scores_per_tag_and_language(files):
    report, errors = _report(files)
    assert errors == []
    attack_ar = report.scores[("attack", "ar")]
    # ar1 found; ar2 is an exercise (vetoed, correctly silent); ar4 has no shelling word: a miss.
    assert (attack_ar.hits, attack_ar.misses, attack_ar.false_alarms) == (1, 1, 0)
    attack_en = report.scores[("attack", "en")]
    # en2 mentions "rocket" and is unjudged, so it counts as a negative: a false alarm.
    # en3 carries a side-mention note: neither a hit nor a false alarm.
    assert (attack_en.hits, attack_en.misses, attack_en.false_alarms, attack_en.side) == (
        1,
        0,
        1,
        1,
    )
    assert attack_en.precision == 0.5 and attack_en.recall == 1.0
    withdrawal = report.scores[("withdrawal", "all")]
    assert (withdrawal.hits, withdrawal.misses) == (2, 0)
    assert report.scores[("attack", "all")].f1 == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))


def test_misses_and_false_alarms_name_what_fired_or_nearly_fired(files):
    report, _ = _report(files)
    assert [(f.article_id, f.tag) for f in report.misses] == [("ar4", "attack")]
    assert [(f.article_id, f.fired) for f in report.false_alarms] == [("en2", ("shelling",))]


def test_a_vetoed_rule_is_reported_as_nearly_firing(tmp_path):
    matcher = Matcher(parse_rules(RULES, "all.yaml").rules)
    labels = _jsonl(tmp_path / "l.jsonl", [{"id": "ar2", "labels": ["ATTACK"], "status": "judged"}])
    items = _jsonl(tmp_path / "i.jsonl", [ITEMS[1]])
    report = evaluate(
        read_articles(items, on_error=print), read_labels(labels, on_error=print), matcher
    )
    (miss,) = report.misses
    (near,) = miss.near
    assert near.rule_id == "shelling" and near.vetoed_by == ("مناورات",)


def test_cli_prints_the_table_and_json(files):
    rules, items, labels = files
    runner = CliRunner()
    args = ["rules", "eval", "--rules", str(rules), "--input", str(items), "--labels", str(labels)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["attack", "en", "0.50", "1.00", "0.67", "1", "0", "1", "1"] in rows
    assert any(line.startswith("## misses (1)") for line in result.stdout.splitlines())
    result = runner.invoke(app, [*args, "--json", "--tag", "withdrawal"])
    report = json.loads(result.stdout)
    assert {s["tag"] for s in report["scores"]} == {"withdrawal"}
    assert report["articles"] == len(ITEMS)


def test_cli_refuses_labels_that_name_no_input_item(files, tmp_path):
    rules, items, _ = files
    other = _jsonl(tmp_path / "other.jsonl", [{"id": "zz", "labels": [], "status": "judged"}])
    result = CliRunner().invoke(
        app, ["rules", "eval", "--rules", str(rules), "--input", str(items), "--labels", str(other)]
    )
    assert result.exit_code == 2
    assert "no article of" in result.stderr


def test_bad_label_lines_are_reported_with_their_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": "a", "labels": ["ATTACK"]}\n{oops\n{"id": "b", "status": "maybe"}\n')
    errors: list[str] = []
    labels = read_labels(path, on_error=errors.append)
    assert list(labels) == ["a"]
    assert errors[0].startswith(f"{path}:2: skipped")
    assert errors[1].startswith(f"{path}:3: skipped: 'status' must be one of")


def test_rss_and_iso_dates_are_read(tmp_path):
    errors: list[str] = []
    items = _jsonl(
        tmp_path / "i.jsonl", ITEMS[:2] + [{"id": "x", "title": "t", "published": "soon"}]
    )
    articles = list(read_articles(items, on_error=errors.append))
    assert [a.published_at.isoformat() for a in articles[:2]] == [
        "2018-02-26T22:48:31+00:00",
        "2018-02-26T10:00:00+00:00",
    ]
    # An unreadable date loses the date, not the article.
    assert articles[2].published_at is None
    assert errors == [
        f"{items}:3: date ignored: 'soon' is not a date; write RFC 822 "
        "(Mon, 26 Feb 2018 22:48:31 GMT) or ISO 8601 (2018-02-26T22:48:31Z)"
    ]


def test_language_follows_the_title_over_an_english_caption(tmp_path):
    row = {
        "id": "seed",
        "title": "انسحاب القوات الأمريكية من قاعدة كي وان في كركوك",
        "description": "Photo caption: US soldiers at the K1 base in Kirkuk, Iraq, in 2019. "
        "أعلنت قيادة العمليات المشتركة",
        "lang": "en",
    }
    (article,) = read_articles(_jsonl(tmp_path / "i.jsonl", [row]), on_error=print)
    assert article.lang == "ar"


@pytest.mark.parametrize("command", ["test", "eval"])
def test_a_file_with_no_readable_line_exits_non_zero(files, tmp_path, command):
    rules, _, labels = files
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n[1, 2]\n")
    args = ["rules", command, "--rules", str(rules), "--input", str(bad)]
    if command == "eval":
        args += ["--labels", str(labels)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "no article could be read" in result.stderr
