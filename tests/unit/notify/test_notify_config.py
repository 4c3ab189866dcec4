"""receivers.yaml validation: typed receivers, strict keys, errors at file:line:column."""

from datetime import timedelta
from pathlib import Path

import pytest

from rasd.notify.config import build_receivers, load_config, parse_config
from rasd.notify.receivers import UnknownReceiverType, receiver_class
from rasd.notify.receivers.email import EmailReceiver
from rasd.yamlerrors import ConfigInvalid

REPO = Path(__file__).resolve().parents[3]

GOOD = """\
receivers:
  - name: desk
    type: slack
    url_env: DESK_URL
  - name: mail
    type: email
    host: smtp.example.org
    from: rasd@example.org
    to: [desk@example.org]
    username_env: SMTP_USER
    password_env: SMTP_PASS
route:
  receiver: mail
  group_wait: 1s
  routes:
    - matchers: [severity=critical]
      receiver: desk
"""


def errors(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text, "receivers.yaml")
    return [str(e) for e in caught.value.errors]


def test_shipped_receivers_yaml_is_valid():
    config = load_config(REPO / "receivers.yaml")
    assert [r.name for r in config.receivers] == ["iraq-desk", "desk-email", "archive"]
    assert config.route.group_wait == timedelta(seconds=30)


def test_good_config_parses_into_typed_receivers():
    config = parse_config(GOOD, "receivers.yaml")
    mail = config.receiver("mail")
    assert mail.type == "email" and mail.port == 587 and mail.security == "starttls"
    assert mail.sender == "rasd@example.org"
    assert config.route.routes[0].receiver == "desk"


def test_every_error_is_reported_with_its_position():
    text = GOOD.replace("    url_env: DESK_URL\n", "    url_env: DESK_URL\n    channel: '#x'\n")
    text = text.replace("group_wait: 1s", "group_wait: soon")
    text = text.replace("severity=critical", "severity=urgent")
    assert errors(text) == [
        "receivers.yaml:5:5: extra inputs are not permitted (receivers.0.slack.channel)",
        "receivers.yaml:15:15: value error, 'soon' is not a duration; expected a duration such"
        " as 500ms, 30s, 5m, 1h30m, 2d, 1w or a number of seconds (route.group_wait)",
        "receivers.yaml:17:18: value error, unknown severity 'urgent'; one of info, low, medium,"
        " high, critical (route.routes.0.matchers.0)",
    ]


def test_unknown_type_and_receiver_names_get_did_you_mean():
    assert errors(GOOD.replace("type: slack", "type: slak")) == [
        "receivers.yaml:3:5: unknown receiver type 'slak'; did you mean 'slack'?"
    ]
    assert errors(GOOD.replace("receiver: desk", "receiver: dsk")) == [
        "receivers.yaml:17:17: unknown receiver 'dsk'; did you mean 'desk'?"
    ]
    with pytest.raises(UnknownReceiverType, match="did you mean 'email'"):
        receiver_class("emial")


def test_cross_checks():
    assert errors(
        GOOD.replace("name: mail", "name: desk").replace("receiver: mail", "receiver: desk")
    ) == ["receivers.yaml:5:11: duplicate receiver 'desk'"]
    lease = GOOD + "delivery: {timeout: 30s, lease: 10s}\n"
    assert errors(lease)[0].startswith("receivers.yaml:18:11: value error, lease must be longer")
    assert errors("receivers: [\n")[0].startswith("receivers.yaml:2:1: ")
    assert errors(
        GOOD.replace("    url_env: DESK_URL\n", "    url_env: DESK_URL\n    url_env: X\n")
    ) == ["receivers.yaml:5:5: duplicate key 'url_env'"]
    assert errors("- just a list\n") == [
        "receivers.yaml:1:1: expected a mapping with receivers, route"
    ]


def test_missing_secret_disables_that_receiver_only():
    config = parse_config(GOOD, "receivers.yaml")
    enabled, disabled = build_receivers(config, {"SMTP_USER": "u", "SMTP_PASS": "p"})
    assert isinstance(enabled["mail"], EmailReceiver)
    assert disabled == {"desk": "environment variable not set: DESK_URL"}
    enabled, disabled = build_receivers(config, {"DESK_URL": "https://hooks.example/x"})
    assert set(enabled) == {"desk"}
    assert disabled == {"mail": "environment variable not set: SMTP_USER, SMTP_PASS"}


@pytest.mark.parametrize(
    "text,where",
    [
        ("receivers:\n  - name: a\x00\n", "receivers.yaml:2:"),
        ("receivers: !foo\n  - name: a\n", "receivers.yaml:1:"),
    ],
)
def test_unreadable_yaml_is_a_located_error_not_a_crash(text, where):
    with pytest.raises(ConfigInvalid) as info:
        parse_config(text, "receivers.yaml")
    assert str(info.value).startswith(where)


def test_inhibit_rules_are_validated_with_positions():
    text = GOOD + (
        "inhibit:\n"
        "  - source_matchers: [kind=escalation]\n"
        "    target_matchers: ['title=~(unclosed']\n"
        "    equal: [story, palces]\n"
        "  - target_matchers: [kind=match]\n"
    )
    found = errors(text)
    assert found[0] == (
        "receivers.yaml:20:23: value error, invalid regular expression '(unclosed': missing ):"
        " (unclosed (inhibit.0.target_matchers.0)"
    )
    assert found[1].startswith("receivers.yaml:21:20: input should be 'rule', 'severity'")
    assert found[2] == ("receivers.yaml:22:5: field required (inhibit.1.source_matchers)")
    config = parse_config(
        GOOD + "inhibit:\n  - {source_matchers: kind=escalation,"
        " target_matchers: kind=match, equal: [story]}\n",
        "r.yaml",
    )
    assert config.inhibit[0].duration == timedelta(hours=24)
    assert str(config.inhibit[0].source_matchers[0]) == "kind=escalation"
