"""Each receiver against a real server: exact payloads and how failures are classified."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from notify_harness import Reply
from notify_samples import TITLE_AR, arabic_alert, english_alert

from rasd.models import Alert
from rasd.notify.messages.slack import slack_payload
from rasd.notify.receivers.email import EmailConfig, EmailReceiver
from rasd.notify.receivers.slack import SlackConfig, SlackReceiver
from rasd.notify.receivers.webhook import WebhookConfig, WebhookReceiver, sign

pytestmark = pytest.mark.integration
TIMEOUT = timedelta(seconds=2)


def slack(sink, timeout=TIMEOUT):
    config = SlackConfig(name="desk", type="slack", url_env="SLACK_URL")
    return SlackReceiver(config, timeout=timeout, env={"SLACK_URL": f"{sink.url}/slack"})


def webhook(sink):
    config = WebhookConfig(
        name="archive", type="webhook", url=f"{sink.url}/hook", secret_env="HOOK_SECRET"
    )
    return WebhookReceiver(config, timeout=TIMEOUT, env={"HOOK_SECRET": "s3cret"})


def email(smtp, to=("desk@example.org",)):
    config = EmailConfig(
        name="mail",
        type="email",
        host="127.0.0.1",
        port=smtp.port,
        security="none",
        to=to,
        **{"from": "rasd@example.org"},
    )
    return EmailReceiver(config, timeout=TIMEOUT, env={})


async def test_slack_posts_block_kit(http_sink):
    receiver = slack(http_sink)
    try:
        assert await receiver.notify([arabic_alert()]) == (False, None)
    finally:
        await receiver.aclose()
    [request] = http_sink.posts("/slack")
    assert request.headers["content-type"] == "application/json"
    assert request.json() == slack_payload([arabic_alert()])


async def test_webhook_posts_alert_json_signed(http_sink):
    receiver = webhook(http_sink)
    try:
        assert await receiver.notify([arabic_alert(), english_alert()]) == (False, None)
    finally:
        await receiver.aclose()
    [request] = http_sink.posts("/hook")
    body = request.json()
    assert body["receiver"] == "archive"
    assert [Alert.model_validate(a) for a in body["alerts"]] == [arabic_alert(), english_alert()]
    timestamp = request.headers["x-rasd-timestamp"]
    assert request.headers["x-rasd-signature"] == sign("s3cret", timestamp, request.body)
    assert request.headers["x-rasd-signature"] != sign("wrong", timestamp, request.body)


@pytest.mark.parametrize(
    ("reply", "retry", "retry_after", "status"),
    [
        (Reply(500, body=b"boom"), True, None, 500),
        (Reply(503, {"Retry-After": "12"}), True, 12.0, 503),
        (Reply(429, {"Retry-After": "7"}, b"rate_limited"), True, 7.0, 429),
        (Reply(404, body=b"no_service"), False, None, 404),
        (Reply(400, body=b"invalid_blocks"), False, None, 400),
    ],
)
async def test_http_failures_are_classified(http_sink, reply, retry, retry_after, status):
    http_sink.reply(reply)
    receiver = slack(http_sink)
    try:
        got_retry, error = await receiver.notify([english_alert()])
    finally:
        await receiver.aclose()
    assert (got_retry, error.retry_after, error.status) == (retry, retry_after, status)


async def test_http_timeout_is_retryable(http_sink):
    http_sink.reply(Reply(delay=5))
    receiver = slack(http_sink, timeout=timedelta(milliseconds=300))
    try:
        retry, error = await receiver.notify([english_alert()])
    finally:
        await receiver.aclose()
    assert retry is True and str(error) == "timed out after 0.3s"


async def test_connection_refused_is_retryable():
    config = SlackConfig(name="desk", type="slack", url_env="U")
    from notify_harness import free_port

    receiver = SlackReceiver(config, timeout=TIMEOUT, env={"U": f"http://127.0.0.1:{free_port()}/"})
    try:
        retry, error = await receiver.notify([english_alert()])
    finally:
        await receiver.aclose()
    assert retry is True and "ConnectError" in str(error)


async def test_email_is_delivered_multipart(smtp_server):
    receiver = email(smtp_server)
    try:
        assert await receiver.notify([arabic_alert()]) == (False, None)
    finally:
        await receiver.aclose()
    [envelope] = smtp_server.messages
    assert envelope.mail_from == "rasd@example.org"
    assert envelope.rcpt_tos == ["desk@example.org"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == f"[rasd][high] {TITLE_AR}"
    assert message.get_content_type() == "multipart/alternative"
    assert 'dir="rtl"' in message.get_body(("html",)).get_content()
    assert message.get_body(("plain",)).get_content().startswith(f"[HIGH] {TITLE_AR}\n")


async def test_smtp_refusals(smtp_server):
    smtp_server.refuse = {
        "gone@example.org": "550 5.1.1 No such user",
        "full@example.org": "452 4.2.2 Mailbox full",
    }
    for to, retry in ((("gone@example.org",), False), (("full@example.org",), True)):
        receiver = email(smtp_server, to=to)
        try:
            got_retry, error = await receiver.notify([english_alert()])
        finally:
            await receiver.aclose()
        assert got_retry is retry and "recipients refused" in str(error)
    # One refused among several: the others got it, so a retry would duplicate it.
    receiver = email(smtp_server, to=("desk@example.org", "gone@example.org"))
    try:
        got_retry, error = await receiver.notify([english_alert()])
    finally:
        await receiver.aclose()
    assert got_retry is False and "some recipients refused: gone@example.org: 550" in str(error)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["desk@example.org"]]
