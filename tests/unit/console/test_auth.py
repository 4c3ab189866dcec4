from __future__ import annotations

import pytest

from rasd.console.alerts import AlertFilter
from rasd.console.app import _local_path
from rasd.console.auth import ConsoleConfigError, Users
from rasd.console.passwords import hash_password, verify_password
from rasd.console.rulefiles import RuleFiles, RulePathError
from rasd.console.views import safe_url
from rasd.models import Alert, Severity, StoryArticle
from rasd.settings import Settings


def test_password_hash_round_trip_and_salting():
    first, second = hash_password("كلمة سر"), hash_password("كلمة سر")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("كلمة سر", first) and verify_password("كلمة سر", second)
    assert not verify_password("كلمة", first)
    for broken in ("", "plain", "scrypt$x$8$1$aa$bb", "bcrypt$1$2$3$4$5", first[:-4]):
        assert not verify_password("كلمة سر", broken)


def test_settings_refuse_plain_passwords():
    with pytest.raises(ValueError, match="hash-password"):
        Settings(console_users={"alice": "hunter2"})


def test_users_authenticate_and_unknown_users_fail():
    users = Users(Settings(console_users={"alice": hash_password("pw")}))
    assert users.authenticate("alice", "pw")
    assert not users.authenticate("alice", "PW")
    assert not users.authenticate("bob", "pw")


def test_dev_user_only_on_the_local_stack():
    local = Settings(console_users={}, kafka_bootstrap=None, redis_url=None)
    assert Users(local).authenticate("dev", "dev")
    with pytest.raises(ConsoleConfigError, match="RASD_CONSOLE_USERS"):
        Users(Settings(console_users={}, kafka_bootstrap="kafka:9092"))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/alerts"),
        ("/rules?x=1", "/rules?x=1"),
        ("https://evil.example/", "/alerts"),
        ("//evil.example/x", "/alerts"),
        ("javascript:alert(1)", "/alerts"),
        ("rules", "/alerts"),
        ("/\\evil.example", "/alerts"),
        ("/x\nSet-Cookie: a=b", "/alerts"),
    ],
)
def test_after_login_only_local_paths(target, expected):
    assert _local_path(target) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.aljazeera.net/news/1", "https://www.aljazeera.net/news/1"),
        (" JavaScript:alert(1)", None),
        ("data:text/html,x", None),
        ("//evil.example", None),
        (None, None),
    ],
)
def test_only_http_links_are_links(url, expected):
    assert safe_url(url) == expected


def test_alert_filter():
    alert = Alert(
        key="k",
        kind="match",
        severity=Severity.high,
        rule="r",
        title="t",
        places=("iraq",),
        articles=(StoryArticle(article_id="a", outlet="BBC عربي", title="t"),),
    )
    assert AlertFilter().accepts(alert)
    assert AlertFilter(severity=Severity.medium, rule="r", place="iraq", outlet="BBC عربي").accepts(
        alert
    )
    assert not AlertFilter(severity=Severity.critical).accepts(alert)
    assert not AlertFilter(place="syria").accepts(alert)
    assert not AlertFilter(outlet="BBC").accepts(alert)


@pytest.mark.parametrize(
    "name", ["", "../x.yaml", "/abs.yaml", "x.txt", ".hidden.yaml", "a/.git/x.yaml", "a/../b.yml"]
)
def test_rule_file_names_stay_inside_the_rules_dir(tmp_path, name):
    files = RuleFiles(Settings(rules_dir=tmp_path), redis=None)
    with pytest.raises(RulePathError):
        files.path(name)


def test_rule_file_names_inside(tmp_path):
    files = RuleFiles(Settings(rules_dir=tmp_path), redis=None)
    assert files.path("desk/iraq.yml") == tmp_path / "desk" / "iraq.yml"
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "iraq.yml").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert files.names() == ["desk/iraq.yml"]


def test_a_symlink_cannot_lead_outside_the_rules_dir(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (tmp_path / "secret.yaml").write_text("x")
    (rules / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(RulePathError):
        RuleFiles(Settings(rules_dir=rules), redis=None).path("link.yaml")
