"""The routing tree, in the manner of Alertmanager."""

from datetime import timedelta

import pytest
from notify_samples import arabic_alert, english_alert

from rasd.notify.config import parse_config
from rasd.notify.routing import Router
from rasd.yamlerrors import ConfigInvalid

CONFIG = """\
receivers:
  - {name: oncall, type: webhook, url: "http://127.0.0.1:1/", secret_env: S}
  - {name: iraq-desk, type: webhook, url: "http://127.0.0.1:1/", secret_env: S}
  - {name: critical, type: webhook, url: "http://127.0.0.1:1/", secret_env: S}
  - {name: archive, type: webhook, url: "http://127.0.0.1:1/", secret_env: S}
route:
  receiver: oncall
  group_by: [rule]
  group_wait: 30s
  routes:
    - matchers: [severity>=critical]
      receiver: critical
      continue: true
    - matchers: [places=iraq]
      receiver: iraq-desk
      group_wait: 5s
      routes:
        - matchers: [tags=attack, rule=rocket-attack]
          group_by: [rule, places]
        - matchers: kind=escalation
          receiver: archive
    - matchers: ['places=~iraq|syria']
      receiver: archive
"""

router = Router(parse_config(CONFIG, "r.yaml").route)


def where(alert):
    return [(r.path, r.receiver) for r in router.route(alert)]


def test_first_matching_child_wins_and_inherits():
    routes = router.route(arabic_alert())
    assert [(r.path, r.receiver) for r in routes] == [("0.1.0", "iraq-desk")]
    assert routes[0].group_wait == timedelta(seconds=5)  # from its parent
    assert routes[0].group_by == ("rule", "places")


def test_a_route_whose_children_do_not_match_delivers_itself():
    assert where(english_alert()) == [("0.1", "iraq-desk")]


def test_no_match_falls_back_to_the_root():
    assert where(english_alert(places=("lebanon",))) == [("0", "oncall")]
    assert where(english_alert(places=("syria",))) == [("0.2", "archive")]  # a regex matcher


def test_continue_tries_later_siblings():
    assert where(arabic_alert(severity="critical")) == [("0.0", "critical"), ("0.1.0", "iraq-desk")]


def test_rule_notify_list_is_added_once_per_receiver():
    alert = arabic_alert(notify=("iraq-desk", "archive"))
    assert where(alert) == [("0.1.0", "iraq-desk"), ("rule", "archive")]


def test_group_id_groups_a_burst_and_separates_groups():
    route = router.route(arabic_alert())[0]
    same = route.group_id(arabic_alert(key="other-story"))
    assert route.group_id(arabic_alert()) == same
    assert route.group_id(arabic_alert(places=("syria", "iraq"))) != same
    assert route.group_labels(arabic_alert()) == {"rule": "rocket-attack", "places": "iraq"}


def test_a_zero_duration_is_not_inherited():
    text = CONFIG.replace("      group_wait: 5s\n", "      group_wait: 0s\n")
    route = Router(parse_config(text, "r.yaml").route).route(english_alert())[0]
    assert route.group_wait == timedelta(0)


def test_the_old_match_key_is_refused_with_the_new_syntax_shown():
    text = CONFIG.replace(
        "    - matchers: [severity>=critical]", "    - match: {severity: critical}"
    )
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text, "r.yaml")
    [error] = caught.value.errors
    assert (error.line, error.column) == (11, 7)
    assert "`match:` is now `matchers:`" in error.message


def test_a_bad_matcher_is_located_at_its_list_item():
    text = CONFIG.replace("[tags=attack, rule=rocket-attack]", "[tags=attack, colour=red]")
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text, "r.yaml")
    [error] = caught.value.errors
    assert (error.line, error.column) == (18, 35)
    assert "unknown label 'colour'" in error.message
