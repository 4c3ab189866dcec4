"""Each notification stage alone, with an in-memory ledger and a scripted receiver."""

from datetime import UTC, datetime, timedelta

import pytest
from notify_samples import arabic_alert, english_alert

from rasd.notify.ledger import Flush, Group
from rasd.notify.receivers import DeliveryError, Receiver
from rasd.notify.silences import Silence, SilenceMatcher
from rasd.notify.stages import (
    CooldownStage,
    DedupStage,
    Notification,
    Pipeline,
    RecordStage,
    RetryPolicy,
    SendStage,
    SilenceStage,
)

NOW = datetime(2026, 3, 14, 10, 0, tzinfo=UTC).timestamp()


class MemoryLedger:
    def __init__(self, sent=(), rule_sent=None):
        self.sent = set(sent)
        self.rule_sent = rule_sent or {}
        self.recorded: list[Flush] = []

    async def already_sent(self, receiver, alerts):
        return {a.key for a in alerts if (receiver, a.key) in self.sent}

    async def rule_last_sent(self, receiver, rules):
        return {r: self.rule_sent[(receiver, r)] for r in rules if (receiver, r) in self.rule_sent}

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


def notification(*alerts, attempts=0):
    group = Group("g1", "desk", "0", {}, 300.0, 3600.0, attempts, list(alerts))
    return Notification(group, NOW, list(alerts), Flush(group, NOW, "done"))


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


async def test_cooldown_stage_holds_back_a_rule_sent_recently():
    ledger = MemoryLedger(rule_sent={("desk", "rocket-attack"): NOW - 100})
    n = notification(arabic_alert(cooldown_seconds=3600), arabic_alert(key="k2"), english_alert())
    await CooldownStage(ledger)(n)
    # k2 carries no cooldown; the embassy rule was not sent recently
    assert [a.key for a in n.pending] == ["k2", "embassy:story-2"]
    assert [a.outcome for a in n.flush.attempts] == ["cooldown"]
    n = notification(arabic_alert(cooldown_seconds=60))
    await CooldownStage(ledger)(n)
    assert len(n.pending) == 1  # the cooldown has passed


async def test_dedup_stage_drops_what_this_receiver_already_got():
    ledger = MemoryLedger(sent={("desk", "rocket-attack:story-1"), ("other", "embassy:story-2")})
    n = notification(arabic_alert(), english_alert())
    await DedupStage(ledger)(n)
    assert [a.key for a in n.pending] == ["embassy:story-2"]
    assert [a.outcome for a in n.flush.attempts] == ["duplicate"]


async def test_send_stage_success_marks_sent_and_cooldowns():
    receiver = ScriptedReceiver((False, None))
    n = notification(arabic_alert(cooldown_seconds=600), english_alert())
    await SendStage({"desk": receiver}, {}, POLICY)(n)
    assert receiver.calls == [["rocket-attack:story-1", "embassy:story-2"]]
    assert n.flush.mode == "sent"
    assert n.flush.cooldowns == {"rocket-attack": 600}
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
    ledger = MemoryLedger(sent={("desk", "embassy:story-2")})
    receiver = ScriptedReceiver((False, None))

    async def no_silences():
        return []

    pipeline = Pipeline(
        [
            SilenceStage(no_silences),
            CooldownStage(ledger),
            DedupStage(ledger),
            SendStage({"desk": receiver}, {}, POLICY),
            RecordStage(ledger),
        ]
    )
    group = Group("g1", "desk", "0", {}, 300.0, 3600.0, 0, [arabic_alert(), english_alert()])
    flush = await pipeline(group, NOW)
    assert receiver.calls == [["rocket-attack:story-1"]]
    assert ledger.recorded == [flush]
    assert [a.outcome for a in flush.attempts] == ["duplicate", "sent"]
