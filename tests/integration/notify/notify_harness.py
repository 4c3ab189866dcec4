"""Real servers and helpers for the notify integration tests: an HTTP server on 127.0.0.1
standing in for Slack and webhooks, an SMTP server (aiosmtpd), notifiers run in-process."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from polling import eventually  # noqa: F401 - the notify tests import it from here

from rasd.keys import RedisKeys
from rasd.models import Alert
from rasd.notify.config import parse_config
from rasd.notify.notifier import Notifier


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float | None = None  # hold the response this long (to provoke client timeouts)


class HttpSink:
    """Records every POST; answers with queued replies, then 200."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.replies: deque[Reply] = deque()
        self.release = threading.Event()  # set at teardown so held replies end at once
        self.on_request = None  # called with the Request before replying
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with sink.lock:
                    sink.requests.append(request)
                    reply = sink.replies.popleft() if sink.replies else Reply()
                if sink.on_request is not None:
                    sink.on_request(request)
                if reply.delay:
                    sink.release.wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="http-sink")

    def reply(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def posts(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


class SmtpRecorder:
    def __init__(self) -> None:
        self.messages: list = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAST = """\
delivery:
  max_attempts: {max_attempts}
  backoff_initial: 100ms
  backoff_max: 400ms
  timeout: {timeout}
  lease: {lease}
  reclaim_idle: {reclaim_idle}
  poll_interval: 50ms
  batch: {batch}
"""


def config(*args, **kwargs):
    return parse_config(config_text(*args, **kwargs), "receivers.yaml")


def config_text(
    receivers: str,
    route: str,
    *,
    max_attempts=4,
    timeout="2s",
    lease="3s",
    reclaim_idle="300ms",
    batch=100,
):
    return f"receivers:\n{receivers}\nroute:\n{route}\n" + FAST.format(
        max_attempts=max_attempts,
        timeout=timeout,
        lease=lease,
        reclaim_idle=reclaim_idle,
        batch=batch,
    )


async def put(client, settings, alert: Alert, revision: int = 0) -> None:
    await client.xadd(
        RedisKeys(settings).outbox,
        {"key": alert.key, "revision": str(revision), "alert": alert.model_dump_json()},
    )


@asynccontextmanager
async def running(settings, cfg, *, consumer: str = "n1", env=None):
    notifier = Notifier(settings, cfg, consumer=consumer, env=env or {})
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    try:
        yield notifier
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        finally:
            await notifier.aclose()


async def idle(client, settings) -> bool:
    """No group is waiting or being sent: nothing more can be delivered."""
    return await client.zcard(RedisKeys(settings).notify_due) == 0


async def outcomes(client, settings, alert_key: str | None = None) -> list[tuple[str, str]]:
    """(outcome, receiver) from the delivery log, oldest first."""
    from rasd.notify.history import DeliveryLog

    entries = reversed(await DeliveryLog(client, settings).recent(1000))
    return [(e.outcome, e.receiver) for e in entries if alert_key is None or alert_key in e.alerts]
