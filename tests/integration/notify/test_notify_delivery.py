"""The notifier end to end: outbox -> Slack stand-in, SMTP server and webhook, with failures."""

import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from notify_harness import Reply, config, eventually, idle, outcomes, put, running
from notify_samples import TITLE_AR, arabic_alert, english_alert

from rasd.keys import RedisKeys
from rasd.models import utcnow
from rasd.notify.history import DeadLetters, DeliveryLog
from rasd.notify.messages.slack import slack_payload
from rasd.notify.silences import SilenceMatcher, SilenceStore

pytestmark = pytest.mark.integration

SLACK = "  - {name: desk-slack, type: slack, url_env: SLACK_URL}\n"
ROUTE_SLACK = """\
  receiver: desk-slack
  group_wait: 300ms
  group_interval: 400ms
  repeat_interval: 1h
"""


def slack_only(**delivery):
    return config(SLACK, ROUTE_SLACK, **delivery)


def env(sink):
    return {"SLACK_URL": f"{sink.url}/slack"}


async def test_a_burst_reaches_slack_and_email_exactly_once_grouped(
    settings, redis_client, http_sink, smtp_server
):
    cfg = config(
        SLACK + f"  - {{name: desk-email, type: email, host: 127.0.0.1, port: {smtp_server.port},"
        " security: none, from: rasd@example.org, to: [desk@example.org]}\n",
        """\
  receiver: desk-email
  group_wait: 400ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - {matchers: ['severity>=medium'], receiver: desk-slack, continue: true}
    - {receiver: desk-email}
""",
    )
    alerts = [
        arabic_alert(),
        english_alert(),
        english_alert(key="embassy:story-3", title="Second protest at the embassy"),
    ]
    async with running(settings, cfg, env=env(http_sink)):
        for alert in alerts:
            await put(redis_client, settings, alert)
        await eventually(lambda: http_sink.posts("/slack") and smtp_server.messages)
        await eventually(lambda: idle(redis_client, settings))
    [slack] = http_sink.posts("/slack")
    assert slack.json() == slack_payload(alerts)
    [mail] = smtp_server.messages
    message = message_from_bytes(mail.content, policy=policy.default)
    assert message["Subject"] == f"[rasd][high] {TITLE_AR} (+2 more)"
    sent = [o for o in await outcomes(redis_client, settings) if o[0] == "sent"]
    assert sorted(sent) == [("sent", "desk-email"), ("sent", "desk-slack")]
    log = DeliveryLog(redis_client, settings)
    status = await log.for_alert("rocket-attack:story-1")
    assert {k: v.outcome for k, v in status.items()} == {"desk-slack": "sent", "desk-email": "sent"}


async def test_updates_fold_into_a_pending_message_and_wait_out_the_repeat_interval(
    settings, redis_client, http_sink
):
    alert = arabic_alert()
    async with running(settings, slack_only(), env=env(http_sink)):
        await put(redis_client, settings, alert)
        await put(
            redis_client, settings, alert.model_copy(update={"title": "تحديث: " + TITLE_AR}), 1
        )
        await eventually(lambda: http_sink.posts("/slack"))
        await eventually(lambda: idle(redis_client, settings))
        await put(redis_client, settings, alert.model_copy(update={"title": "later"}), 2)
        await eventually(lambda: _has(redis_client, settings, ("cooldown", "desk-slack")))
        assert await idle(redis_client, settings)
    [message] = http_sink.posts("/slack")
    assert "تحديث" in message.json()["text"]
    assert [o for o, _ in await outcomes(redis_client, settings)] == [
        "queued",
        "folded",
        "sent",
        "update",
        "cooldown",  # the story was sent less than repeat_interval (1h) ago
    ]


async def _has(client, settings, outcome):
    return outcome in await outcomes(client, settings)


async def test_a_500_is_retried_with_backoff_then_delivered_once(settings, redis_client, http_sink):
    http_sink.reply(Reply(500, body=b"boom"), Reply(503))
    async with running(settings, slack_only(), env=env(http_sink)):
        await put(redis_client, settings, arabic_alert())
        await eventually(lambda: _has(redis_client, settings, ("sent", "desk-slack")))
    assert len(http_sink.posts("/slack")) == 3
    log = await DeliveryLog(redis_client, settings).recent(10)
    assert [(a.outcome, a.attempt, a.status) for a in reversed(log)] == [
        ("queued", 0, None),
        ("retry", 1, 500),
        ("retry", 2, 503),
        ("sent", 3, None),
    ]


async def test_a_429_honours_retry_after(settings, redis_client, http_sink):
    http_sink.reply(Reply(429, {"Retry-After": "1"}, b"rate_limited"))
    async with running(settings, slack_only(), env=env(http_sink)):
        await put(redis_client, settings, arabic_alert())
        await eventually(lambda: len(http_sink.posts("/slack")) == 2)
        first, second = http_sink.posts("/slack")
        await eventually(lambda: _has(redis_client, settings, ("sent", "desk-slack")))
    [retry] = [
        a for a in await DeliveryLog(redis_client, settings).recent(10) if a.outcome == "retry"
    ]
    assert (retry.status, retry.retry_in) == (429, 1.0)
    assert first.json() == second.json()


async def test_timeouts_are_retried(settings, redis_client, http_sink):
    http_sink.reply(Reply(delay=5))
    async with running(settings, slack_only(timeout="300ms"), env=env(http_sink)):
        await put(redis_client, settings, english_alert())
        await eventually(lambda: _has(redis_client, settings, ("sent", "desk-slack")))
    [retry] = [
        a for a in await DeliveryLog(redis_client, settings).recent(10) if a.outcome == "retry"
    ]
    assert retry.error == "timed out after 0.3s"
    assert len(http_sink.posts("/slack")) == 2


async def test_permanent_failure_goes_straight_to_dead_letters(settings, redis_client, http_sink):
    http_sink.reply(Reply(404, body=b"no_service"))
    async with running(settings, slack_only(), env=env(http_sink)):
        await put(redis_client, settings, arabic_alert())
        await eventually(lambda: DeadLetters(redis_client, settings).count())
        assert await idle(redis_client, settings)
    [dead] = await DeadLetters(redis_client, settings).recent()
    assert dead.reason == "permanent failure: HTTP 404: no_service"
    assert (dead.receiver, dead.attempts, dead.alerts) == ("desk-slack", 1, (arabic_alert(),))
    assert len(http_sink.posts("/slack")) == 1


async def test_after_max_attempts_dead_letters_too(settings, redis_client, http_sink):
    http_sink.reply(*[Reply(500)] * 3)
    async with running(settings, slack_only(max_attempts=3), env=env(http_sink)):
        await put(redis_client, settings, arabic_alert())
        await eventually(lambda: DeadLetters(redis_client, settings).count())
    [dead] = await DeadLetters(redis_client, settings).recent()
    assert dead.reason == "gave up after 3 attempts: HTTP 500: ok"
    assert len(http_sink.posts("/slack")) == 3


async def test_smtp_refusal_is_a_dead_letter(settings, redis_client, smtp_server):
    smtp_server.refuse = {"gone@example.org": "550 5.1.1 No such user"}
    cfg = config(
        f"  - {{name: mail, type: email, host: 127.0.0.1, port: {smtp_server.port},"
        " security: none, from: rasd@example.org, to: [gone@example.org]}\n",
        "  receiver: mail\n  group_wait: 100ms\n",
    )
    async with running(settings, cfg):
        await put(redis_client, settings, english_alert())
        await eventually(lambda: DeadLetters(redis_client, settings).count())
    [dead] = await DeadLetters(redis_client, settings).recent()
    assert dead.reason.startswith("permanent failure: recipients refused: gone@example.org: 550")
    assert smtp_server.messages == []


async def test_a_silence_stops_delivery_and_its_expiry_resumes_it(
    settings, redis_client, http_sink
):
    store = SilenceStore(redis_client, settings)
    silence = await store.add(
        [SilenceMatcher.parse("rule=rocket-attack")],
        ends_at=utcnow() + timedelta(hours=1),
        comment="exercise at the base",
        author="sara",
    )
    async with running(settings, slack_only(), env=env(http_sink)):
        await put(redis_client, settings, arabic_alert())
        await put(redis_client, settings, english_alert())
        await eventually(lambda: _has(redis_client, settings, ("silenced", "desk-slack")))
        await eventually(lambda: _has(redis_client, settings, ("sent", "desk-slack")))
        [message] = http_sink.posts("/slack")
        assert (
            message.json()["text"]
            == "[rasd][medium] Protesters gather outside the embassy in Baghdad"
        )

        await store.expire(silence.id)
        await put(redis_client, settings, arabic_alert(key="rocket-attack:story-2"))
        await eventually(lambda: len(http_sink.posts("/slack")) == 2)
    assert http_sink.posts("/slack")[1].json()["text"] == f"[rasd][high] {TITLE_AR}"
    entries = await DeliveryLog(redis_client, settings).recent(20)
    [silenced] = [a for a in entries if a.outcome == "silenced"]
    assert (silenced.alerts, silenced.silence) == (("rocket-attack:story-1",), silence.id)


async def test_rule_notify_list_adds_a_signed_webhook(settings, redis_client, http_sink):
    cfg = config(
        SLACK
        + f"  - {{name: archive, type: webhook, url: '{http_sink.url}/hook', secret_env: S}}\n",
        ROUTE_SLACK,
    )
    alert = arabic_alert(notify=("archive",))
    async with running(settings, cfg, env={**env(http_sink), "S": "k"}):
        await put(redis_client, settings, alert)
        await eventually(lambda: http_sink.posts("/hook") and http_sink.posts("/slack"))
    [hook] = http_sink.posts("/hook")
    assert hook.json() == {"receiver": "archive", "alerts": [alert.model_dump(mode="json")]}


async def test_an_unreadable_outbox_entry_is_a_dead_letter(settings, redis_client, http_sink):
    async with running(settings, slack_only(), env=env(http_sink)):
        await redis_client.xadd(RedisKeys(settings).outbox, {"key": "x", "alert": "{not json"})
        await eventually(lambda: DeadLetters(redis_client, settings).count())
        await eventually(lambda: _nothing_pending(redis_client, settings))
    [dead] = await DeadLetters(redis_client, settings).recent()
    assert dead.reason.startswith("unreadable outbox entry: ValidationError")
    assert dead.raw == {"key": "x", "alert": "{not json"}


async def _nothing_pending(client, settings) -> bool:
    summary = await client.xpending(RedisKeys(settings).outbox, settings.group("notify"))
    return summary["pending"] == 0


async def test_entries_of_a_dead_consumer_are_reclaimed(settings, redis_client, http_sink):
    outbox, group = RedisKeys(settings).outbox, settings.group("notify")
    await redis_client.xgroup_create(outbox, group, id="0", mkstream=True)
    await put(redis_client, settings, arabic_alert())
    started = time.monotonic()
    # A notifier that read the entry and died before acknowledging it.
    read = await redis_client.xreadgroup(group, "dead-notifier", {outbox: ">"}, count=10)
    assert len(read[0][1]) == 1
    async with running(settings, slack_only(), env=env(http_sink), consumer="n2"):
        await eventually(lambda: _has(redis_client, settings, ("sent", "desk-slack")))
        assert await _nothing_pending(redis_client, settings)
        # The dead notifier, now with nothing pending, is dropped from the group.
        await eventually(lambda: _only_consumer(redis_client, settings, "n2"))
    assert time.monotonic() - started >= 0.3  # not before reclaim_idle
    assert len(http_sink.posts("/slack")) == 1


async def _only_consumer(client, settings, name: str) -> bool:
    found = await client.xinfo_consumers(RedisKeys(settings).outbox, settings.group("notify"))
    return [c["name"] for c in found] == [name]


async def test_two_notifiers_share_the_outbox_without_duplicates(settings, redis_client, http_sink):
    per_alert = config(SLACK, ROUTE_SLACK + "  group_by: [key]\n", batch=2)
    alerts = [english_alert(key=f"story-{i}", title=f"Story {i}") for i in range(16)]
    async with (
        running(settings, per_alert, env=env(http_sink), consumer="n1"),
        running(settings, per_alert, env=env(http_sink), consumer="n2"),
    ):
        for alert in alerts:
            await put(redis_client, settings, alert)
        await eventually(lambda: len(http_sink.posts("/slack")) >= 16)
        await eventually(lambda: idle(redis_client, settings))
    titles = sorted(r.json()["text"] for r in http_sink.posts("/slack"))
    assert titles == sorted(f"[rasd][medium] Story {i}" for i in range(16))


async def test_a_burst_read_by_two_notifiers_is_still_one_message(
    settings, redis_client, http_sink
):
    cfg = slack_only(batch=1)
    alerts = [english_alert(key=f"story-{i}", title=f"Story {i}") for i in range(6)]
    async with (
        running(settings, cfg, env=env(http_sink), consumer="n1"),
        running(settings, cfg, env=env(http_sink), consumer="n2"),
    ):
        for alert in alerts:
            await put(redis_client, settings, alert)
        await eventually(lambda: http_sink.posts("/slack"))
        await eventually(lambda: idle(redis_client, settings))
    [message] = http_sink.posts("/slack")
    assert message.json()["text"].endswith("(+5 more)")


async def test_a_slow_receiver_does_not_hold_up_the_others(
    settings, redis_client, http_sink, smtp_server
):
    cfg = config(
        SLACK + f"  - {{name: desk-email, type: email, host: 127.0.0.1, port: {smtp_server.port},"
        " security: none, from: rasd@example.org, to: [desk@example.org]}\n",
        """\
  receiver: desk-email
  group_wait: 50ms
  routes:
    - {matchers: [severity=high], receiver: desk-slack}
""",
        timeout="8s",
        lease="10s",
    )
    http_sink.reply(Reply(delay=8))  # Slack hangs until released
    async with running(settings, cfg, env=env(http_sink)):
        await put(redis_client, settings, arabic_alert())
        await eventually(lambda: http_sink.posts("/slack"))
        await put(redis_client, settings, english_alert())  # medium: goes to email
        await eventually(lambda: smtp_server.messages, timeout=5)
        assert not await _has(redis_client, settings, ("sent", "desk-slack"))
        http_sink.release.set()
        await eventually(lambda: _has(redis_client, settings, ("sent", "desk-slack")))
