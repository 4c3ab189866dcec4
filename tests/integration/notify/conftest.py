"""Fixtures for the notify integration tests (servers are in notify_harness)."""

import pytest
from aiosmtpd.controller import Controller
from notify_harness import HttpSink, SmtpRecorder, free_port

from rasd.connections import async_redis_client


@pytest.fixture
def http_sink():
    sink = HttpSink()
    sink.thread.start()
    yield sink
    sink.release.set()
    sink.server.shutdown()
    sink.server.server_close()
    sink.thread.join(timeout=5)


@pytest.fixture
def smtp_server():
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture
async def redis_client(settings):
    client = async_redis_client(settings)
    yield client
    await client.aclose()
