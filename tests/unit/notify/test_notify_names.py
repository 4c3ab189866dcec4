"""A rule's notify: receiver that receivers.yaml does not define is an error where the name is
written (rules check, console rule check) and where it is used (notify check / run)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rasd.cli import app
from rasd.console.rulefiles import RuleFiles
from rasd.notify.config import load_config
from rasd.notify.names import unknown_receivers
from rasd.rules import load_rules, parse_rules
from rasd.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[3]

RECEIVERS = """\
receivers:
  - {name: iraq-desk, type: slack, url_env: IRAQ_URL}
  - {name: archive, type: webhook, url: "http://127.0.0.1:1/", secret_env: S}
route:
  receiver: iraq-desk
"""
RULES = """\
- id: first
  title: First
  match: {any: [rocket]}
  notify: [iraq-desk, iraq-dsk]
- id: second
  title: Second
  match: {any: [mortar]}
  notify:
    - archive
    - nobody
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "receivers.yaml").write_text(RECEIVERS)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "two.yaml").write_text(RULES)
    return tmp_path


@pytest.fixture
def cli(monkeypatch, files):
    monkeypatch.setenv("RASD_RECEIVERS_FILE", str(files / "receivers.yaml"))
    monkeypatch.setenv("RASD_RULES_DIR", str(files / "rules"))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_every_unknown_name_is_located():
    rules = parse_rules(RULES, "two.yaml").rules
    errors = unknown_receivers(rules, {"iraq-desk", "archive"}, read={"two.yaml": RULES}.get)
    assert [str(e) for e in errors] == [
        "two.yaml:4:23: rule 'first': unknown receiver 'iraq-dsk' in notify;"
        " did you mean 'iraq-desk'?",
        "two.yaml:10:7: rule 'second': unknown receiver 'nobody' in notify;"
        " known: archive, iraq-desk",
    ]


def test_the_shipped_rules_name_only_shipped_receivers():
    names = load_config(REPO / "receivers.yaml").names
    assert unknown_receivers(load_rules(REPO / "rules").rules, names) == []


def test_rules_check_fails_on_unknown_receivers(cli, files):
    result = cli("rules", "check")
    assert result.exit_code == 1
    path = files / "rules" / "two.yaml"
    assert f"{path}:4:23: rule 'first': unknown receiver 'iraq-dsk'" in result.stderr
    assert f"{path}:10:7: rule 'second': unknown receiver 'nobody'" in result.stderr
    # --receivers names another file; a file that is not there is an error then.
    other = files / "other.yaml"
    other.write_text(RECEIVERS.replace("archive", "nobody").replace("iraq-desk", "iraq-dsk"))
    result = cli("rules", "check", "--receivers", str(other))
    assert result.exit_code == 1
    assert "unknown receiver 'iraq-desk'" in result.stderr
    assert "unknown receiver 'nobody'" not in result.stderr
    result = cli("rules", "check", "--receivers", str(files / "missing.yaml"))
    assert result.exit_code == 1 and "missing.yaml:1:1: cannot read" in result.stderr


def test_rules_check_without_a_receivers_file_says_names_were_not_checked(cli, files):
    (files / "receivers.yaml").unlink()
    result = cli("rules", "check")
    assert result.exit_code == 0, result.output
    assert "notify: names not checked" in result.stderr


def test_notify_check_and_run_refuse_to_start(cli, files):
    for command in ("check", "run"):
        result = cli("notify", command)
        assert result.exit_code == 2
        assert "unknown receiver 'iraq-dsk'" in result.stderr
        assert "define these receivers in" in result.stderr
    (files / "rules" / "two.yaml").write_text(
        RULES.replace("iraq-dsk", "archive").replace("nobody", "iraq-desk")
    )
    result = cli("notify", "check")
    assert result.exit_code == 0, result.output
    assert "iraq-desk" in result.stdout and "disabled" in result.stdout


def test_the_consoles_rule_check_refuses_unknown_receivers(files):
    settings = Settings(rules_dir=files / "rules", receivers_file=files / "receivers.yaml")
    result = RuleFiles(settings, redis=None).check("two.yaml", RULES)
    assert [(e.line, e.column) for e in result.errors] == [(4, 23), (10, 7)]
    # Without a receivers file the names cannot be checked: the draft is not refused for them.
    settings = Settings(rules_dir=files / "rules", receivers_file=files / "none.yaml")
    assert RuleFiles(settings, redis=None).check("two.yaml", RULES).errors == []
