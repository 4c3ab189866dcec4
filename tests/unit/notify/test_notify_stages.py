"""Each notification stage alone, with an in-memory ledger and a scripted receiver."""

from datetime import UTC, datetime, timedelta

import pytest
from notify_samples import arabic_alert, english_alert

from rasd.models import Severity
from rasd.notify.config import InhibitRule
from rasd.notify.inhibit import Source, shares
from rasd.notify.ledger import Flush, Group, Sent
from rasd.notify.matchers import Matcher, alert_labels
from rasd.notify.receivers import DeliveryError, Receiver
from rasd.notify.silences import Silence, SilenceMatcher
from rasd.notify.stages import (
    CooldownStage,
    DedupStage,
    InhibitStage,
    Notification,
    Pipeline,
    RecordStage,
    RetryPolicy,
    SendStage,
    SilenceStage,
)

NOW = datetime(2026, 3, 14, 10, 0, tzinfo=UTC).timestamp()


class MemoryLedger:
    def __init__(self, sent=None):
        self.sent = sent or {}  # (receiver, alert key) -> Sent
        self.recorded: list[Flush] = []

    async def last_sent(self, receiver, alerts):
        return {
            a.key: self.sent[(receiver, a.key)] for a in alerts if (receiver, a.key) in self.sent
        }

    async def record(self, flush):
        self.recorded.append(flush)


class ScriptedReceiver(Receiver):
    type = "scripted"
    Config = None

    def __init__(self, *outcomes):
        self.name = "desk"
        self.outcomes = list(outcomes)
        self.calls = []

    async def notify(self, alerts):
        self.calls.append([a.key for a in alerts])
        return self.outcomes.pop(0)


def notification(*alerts, attempts=0, revisions=None):
    group = Group("g1", "desk", "0", {}, 300.0, 3600.0, attempts, list(alerts), revisions or {})
    return Notification(group, NOW, list(alerts), Flush(group, NOW, "done"))


HIGH = Severity.high.rank


POLICY = RetryPolicy(max_attempts=3, initial=2, maximum=60, max_retry_after=30, random=lambda: 1)


async def test_silence_stage_drops_and_records_silenced_alerts():
    start = datetime.fromtimestamp(NOW, UTC) - timedelta(minutes=1)
    silence = Silence(
        matchers=(SilenceMatcher.parse("places=iraq"), SilenceMatcher.parse("tags=attack")),
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        comment="known exercise",
        author="sara",
    )

    async def silences():
        return [silence]

    n = notification(arabic_alert(), english_alert())
    await SilenceStage(silences)(n)
    assert [a.key for a in n.pending] == ["embassy:story-2"]
    assert n.flush.handled == ["rocket-attack:story-1"]
    assert [(a.outcome, a.silence) for a in n.flush.attempts] == [("silenced", silence.id)]


async def test_cooldown_is_per_story_not_per_rule():
    story = "rocket-attack:story-1"
    ledger = MemoryLedger({("desk", story): Sent(NOW - 100, 0, HIGH)})
    update = arabic_alert(cooldown_seconds=3600)
    other_event = arabic_alert(key="rocket-attack:story-9", cooldown_seconds=3600)
    n = notification(update, other_event, revisions={story: 1})
    await CooldownStage(ledger)(n)
    # The update of the story sent 100 s ago waits; another event of the same rule does not.
    assert [a.key for a in n.pending] == ["rocket-attack:story-9"]
    assert [(a.outcome, a.alerts) for a in n.flush.attempts] == [("cooldown", (story,))]
    n = notification(arabic_alert(cooldown_seconds=60), revisions={story: 1})
    await CooldownStage(ledger)(n)
    assert len(n.pending) == 1  # the rule's cooldown has passed


async def test_without_a_rule_cooldown_the_routes_repeat_interval_paces_updates():
    story = "rocket-attack:story-1"
    ledger = MemoryLedger({("desk", story): Sent(NOW - 1800, 0, HIGH)})
    n = notification(arabic_alert(), revisions={story: 2})  # repeat_interval 3600 s
    await CooldownStage(ledger)(n)
    assert n.pending == []
    ledger = MemoryLedger({("desk", story): Sent(NOW - 3601, 0, HIGH)})
    n = notification(arabic_alert(), revisions={story: 2})
    await CooldownStage(ledger)(n)
    assert len(n.pending) == 1


async def test_a_severity_rise_is_not_held_by_the_cooldown():
    story = "rocket-attack:story-1"
    ledger = MemoryLedger({("desk", story): Sent(NOW - 10, 0, HIGH)})
    n = notification(arabic_alert(severity="critical", cooldown_seconds=3600), revisions={story: 1})
    await CooldownStage(ledger)(n)
    assert len(n.pending) == 1


async def test_dedup_stage_drops_a_revision_this_receiver_already_got():
    story = "rocket-attack:story-1"
    ledger = MemoryLedger(
        {("desk", story): Sent(NOW - 10, 1, HIGH), ("other", "embassy:story-2"): Sent(NOW, 0, 2)}
    )
    n = notification(arabic_alert(), english_alert(), revisions={story: 1})
    await DedupStage(ledger)(n)
    assert [a.key for a in n.pending] == ["embassy:story-2"]
    assert [a.outcome for a in n.flush.attempts] == ["duplicate"]
    n = notification(arabic_alert(), revisions={story: 2})  # a newer revision is not a duplicate
    await DedupStage(ledger)(n)
    assert len(n.pending) == 1


def _inhibit_rule(**changes):
    fields = dict(
        source_matchers=[Matcher.parse("kind=escalation")],
        target_matchers=[Matcher.parse("kind=match")],
        equal=["story"],
    )
    fields.update(changes)
    return InhibitRule(**fields)


async def test_inhibit_stage_holds_back_the_stories_an_active_escalation_counts():
    escalation = arabic_alert(
        key="escalation:rocket-attack:iraq:2026-03-14",
        kind="escalation",
        severity="critical",
        stories=("rocket-attack:story-1",),
    )
    source = Source(escalation.key, NOW - 60, alert_labels(escalation))

    async def sources(now):
        return [source]

    member, other = arabic_alert(), arabic_alert(key="rocket-attack:story-2")
    n = notification(member, other, escalation)
    await InhibitStage(sources, [_inhibit_rule()])(n)
    assert [a.key for a in n.pending] == ["rocket-attack:story-2", escalation.key]
    assert [(a.outcome, a.inhibited_by) for a in n.flush.attempts] == [
        ("inhibited", escalation.key)
    ]
    # Past the rule's duration the escalation no longer inhibits.
    n = notification(member)
    await InhibitStage(sources, [_inhibit_rule(duration="30s")])(n)
    assert len(n.pending) == 1


def test_equal_labels_with_several_values_need_one_in_common():
    source = alert_labels(arabic_alert(places=("kirkuk", "iraq")))
    assert shares(source, alert_labels(arabic_alert(places=("iraq", "k1"))), ["places", "rule"])
    assert not shares(source, alert_labels(arabic_alert(places=("syria",))), ["places"])
    assert not shares(source, alert_labels(english_alert()), ["rule"])
    # An absent label equals an absent label, as in Alertmanager.
    untagged = alert_labels(english_alert(tags=()))
    assert shares(untagged, alert_labels(arabic_alert(tags=())), ["tags"])
    assert not shares(untagged, alert_labels(arabic_alert()), ["tags"])


async def test_send_stage_success_marks_sent():
    receiver = ScriptedReceiver((False, None))
    n = notification(arabic_alert(cooldown_seconds=600), english_alert())
    await SendStage({"desk": receiver}, {}, POLICY)(n)
    assert receiver.calls == [["rocket-attack:story-1", "embassy:story-2"]]
    assert n.flush.mode == "sent"
    assert [a.key for a in n.flush.sent] == ["rocket-attack:story-1", "embassy:story-2"]
    assert [(a.outcome, a.attempt) for a in n.flush.attempts] == [("sent", 1)]


async def test_send_stage_retries_with_backoff_then_gives_up():
    error = DeliveryError("HTTP 503", status=503)
    n = notification(arabic_alert(), attempts=1)
    await SendStage({"desk": ScriptedReceiver((True, error))}, {}, POLICY)(n)
    assert n.flush.mode == "retry"
    assert n.flush.retry_at == NOW + 4  # 2 * 2**1, jitter at its maximum
    assert n.flush.handled == []
    n = notification(arabic_alert(), attempts=2)
    await SendStage({"desk": ScriptedReceiver((True, error))}, {}, POLICY)(n)
    assert n.flush.mode == "done"
    assert n.flush.dead.reason == "gave up after 3 attempts: HTTP 503"
    assert n.flush.handled == ["rocket-attack:story-1"]


async def test_send_stage_honours_retry_after_and_caps_it():
    n = notification(arabic_alert())
    error = DeliveryError("HTTP 429", status=429, retry_after=7)
    await SendStage({"desk": ScriptedReceiver((True, error))}, {}, POLICY)(n)
    assert n.flush.retry_at == NOW + 7
    n = notification(arabic_alert())
    error = DeliveryError("HTTP 429", status=429, retry_after=86400)
    await SendStage({"desk": ScriptedReceiver((True, error))}, {}, POLICY)(n)
    assert n.flush.retry_at == NOW + 30


async def test_send_stage_permanent_failure_goes_straight_to_dead_letters():
    n = notification(arabic_alert())
    error = DeliveryError("HTTP 404: no such hook", status=404)
    await SendStage({"desk": ScriptedReceiver((False, error))}, {}, POLICY)(n)
    assert n.flush.dead.reason == "permanent failure: HTTP 404: no such hook"
    assert n.flush.dead.alerts == (arabic_alert(),)
    assert [(a.outcome, a.status) for a in n.flush.attempts] == [("dead", 404)]


async def test_send_stage_disabled_and_unknown_receivers():
    n = notification(arabic_alert())
    await SendStage({}, {"desk": "environment variable not set: X"}, POLICY)(n)
    assert [a.outcome for a in n.flush.attempts] == ["disabled"]
    assert n.flush.dead is None and n.flush.handled == ["rocket-attack:story-1"]
    n = notification(arabic_alert())
    await SendStage({}, {}, POLICY)(n)
    assert n.flush.dead.reason == "unknown receiver 'desk'"


@pytest.mark.parametrize(("attempt", "low", "high"), [(1, 1, 2), (2, 2, 4), (10, 30, 60)])
def test_backoff_is_exponential_with_jitter_and_capped(attempt, low, high):
    lowest = RetryPolicy(3, 2, 60, 30, random=lambda: 0).delay(attempt, None)
    highest = RetryPolicy(3, 2, 60, 30, random=lambda: 1).delay(attempt, None)
    assert (lowest, highest) == (low, high)


async def test_pipeline_runs_the_stages_in_order_and_records_once():
    ledger = MemoryLedger({("desk", "embassy:story-2"): Sent(NOW - 5, 0, 2)})
    receiver = ScriptedReceiver((False, None))

    async def no_silences():
        return []

    pipeline = Pipeline(
        [
            SilenceStage(no_silences),
            DedupStage(ledger),
            CooldownStage(ledger),
            SendStage({"desk": receiver}, {}, POLICY),
            RecordStage(ledger),
        ]
    )
    group = Group("g1", "desk", "0", {}, 300.0, 3600.0, 0, [arabic_alert(), english_alert()])
    flush = await pipeline(group, NOW)
    assert receiver.calls == [["rocket-attack:story-1"]]
    assert ledger.recorded == [flush]
    assert [a.outcome for a in flush.attempts] == ["duplicate", "sent"]
