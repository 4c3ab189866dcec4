"""Hot reload: rule files added, edited, broken and removed while a worker runs."""

from __future__ import annotations

import time

import pytest
from streams_harness import (
    loaded_rules,
    outbox,
    produce,
    rule_errors,
    wait_for,
    wait_outbox,
)

from rasd.models import Article

pytestmark = pytest.mark.integration

WITHDRAWAL = """\
id: troop-withdrawal
title: Withdrawal of troops
severity: high
match:
  near: {terms: [[انسحاب, withdraw], [قوات, troops]], within: 3}
"""
CUP_FINAL = """\
id: cup-final
title: Cup final
severity: {severity}
match:
  any: [نهائي الكأس, cup final]
"""
RELOAD = 10  # seconds within which every worker must use an edited rule


def article(article_id: str, title: str) -> Article:
    return Article(id=article_id, outlet="test", feed="test", lang="en", title=title)


def alerted(settings, article_id: str) -> list:
    return [
        a for _, _, a in outbox(settings) if any(x.article_id == article_id for x in a.articles)
    ]


def the_worker_uses(settings, predicate, what: str) -> float:
    started = time.monotonic()
    wait_for(lambda: (r := loaded_rules(settings)) and all(predicate(x) for x in r), RELOAD, what)
    return time.monotonic() - started


def test_rules_reload_without_restart_and_a_broken_edit_keeps_the_last_good_version(
    settings, rules_dir, workers
):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    workers()
    produce(settings, [article("w1", "Troops withdraw from the northern base")])
    wait_outbox(settings, 1, 60)

    # Added.
    (rules_dir / "cup.yaml").write_text(CUP_FINAL.format(severity="low"), encoding="utf-8")
    the_worker_uses(settings, lambda r: "cup-final" in r, "the new rule")
    produce(settings, [article("c1", "Cup final tickets sell out in an hour")])
    (first,) = wait_for(lambda: alerted(settings, "c1"), 10, "an alert of the new rule")
    assert first.rule == "cup-final" and first.severity == "low"
    version = loaded_rules(settings)[0]["cup-final"]

    # Broken: the error is recorded and the last good version stays in use.
    (rules_dir / "cup.yaml").write_text("id: cup-final\ntitle: [oops\n", encoding="utf-8")
    errors = wait_for(lambda: rule_errors(settings).get("cup.yaml"), RELOAD, "the rule error")
    assert errors[0].startswith("cup.yaml:")
    produce(settings, [article("c2", "نهائي الكأس يقام في بغداد الجمعة المقبلة")])
    (second,) = wait_for(lambda: alerted(settings, "c2"), 10, "an alert of the last good rule")
    assert second.severity == "low"
    assert loaded_rules(settings)[0]["cup-final"] == version

    # Fixed and edited.
    (rules_dir / "cup.yaml").write_text(CUP_FINAL.format(severity="critical"), encoding="utf-8")
    the_worker_uses(settings, lambda r: r.get("cup-final") not in (None, version), "the edit")
    wait_for(lambda: "cup.yaml" not in rule_errors(settings), RELOAD, "the error to clear")
    produce(settings, [article("c3", "Stadium ready for the cup final between two rivals")])
    (third,) = wait_for(lambda: alerted(settings, "c3"), 10, "an alert of the edited rule")
    assert third.severity == "critical"

    # Removed: an article before a sentinel in the same partition is matched without it.
    (rules_dir / "withdrawal.yaml").unlink()
    the_worker_uses(settings, lambda r: "troop-withdrawal" not in r, "the removal")
    produce(
        settings,
        [
            article("w2", "Troops withdraw from the southern base"),
            article("c4", "Fans travel to the cup final by train and bus"),
        ],
        partition=0,
    )
    wait_for(lambda: alerted(settings, "c4"), 10, "the sentinel's alert")
    assert alerted(settings, "w2") == []
