"""A running `rasd notify run` process switches to a new receivers.yaml: after a receiver's
URL changes, the next alert goes to the new address; an invalid edit is refused (`rasd notify
check`, log, metrics) and the last good version keeps delivering. Also on SIGHUP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from notify_harness import config_text, eventually, free_port, put
from notify_samples import arabic_alert

from rasd.configwatch import ReloadStates, version_of
from rasd.connections import redis_client

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
ROUTE = "  receiver: desk\n  group_wait: 100ms\n  group_interval: 100ms\n"


def receivers(url: str, extra: str = "") -> str:
    hook = f"  - {{name: desk, type: webhook, url: '{url}', secret_env: HOOK_SECRET{extra}}}\n"
    return config_text(hook, ROUTE)


def env(settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_REDIS_URL": settings.redis_dsn,
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "HOOK_SECRET": "s3cret",
        **extra,
    }


class NotifyProcess:
    def __init__(self, settings, path: Path, log: Path, poll: str):
        # Rules of the test's own (none), not the shipped ones naming the shipped receivers.
        rules = path.parent / "rules"
        rules.mkdir(exist_ok=True)
        self.metrics_port = free_port()
        self.log = log
        self.out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rasd", "notify", "run", "-c", str(path),
             "--metrics-port", str(self.metrics_port)],
            cwd=REPO, env=env(settings, RASD_CONFIG_POLL_INTERVAL=poll, RASD_RULES_DIR=str(rules)),
            stdout=self.out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        return self.proc.returncode

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()


def running_state(settings):
    client = redis_client(settings)
    try:
        states = ReloadStates(settings).read(client, "receivers")
    finally:
        client.close()
    return states[0] if len(states) == 1 else None


async def uses(settings, text: str):
    """The running notifier reports the version of ``text`` in use, nothing refused."""
    version = version_of(text.encode())
    return await eventually(
        lambda: (s := running_state(settings)) and s.version == version and s.ok and s,
        timeout=20,
    )


def check(settings, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasd", "notify", "check", "-c", str(path)],
        cwd=REPO, env=env(settings, COLUMNS="200", RASD_RULES_DIR=str(path.parent / "rules")),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_url_change_then_invalid_edit(settings, redis_client, http_sink, tmp_path):
    path = tmp_path / "receivers.yaml"
    first = receivers(f"{http_sink.url}/first")
    path.write_text(first)
    notifier = NotifyProcess(settings, path, tmp_path / "notify.log", poll="0.2")
    try:
        await uses(settings, first)
        await put(redis_client, settings, arabic_alert("rocket-attack:one"))
        await eventually(lambda: http_sink.posts("/first"), timeout=20)

        # The receiver's URL changes: the next alert goes to the second stand-in.
        second = receivers(f"{http_sink.url}/second")
        path.write_text(second)
        await uses(settings, second)
        assert "rasd_notify_redis_up 1.0" in notifier.metrics()  # the new notifier's own
        await put(redis_client, settings, arabic_alert("rocket-attack:two"))
        [post] = await eventually(lambda: http_sink.posts("/second"), timeout=20)
        assert [a["key"] for a in post.json()["alerts"]] == ["rocket-attack:two"]
        assert len(http_sink.posts("/first")) == 1

        # An invalid edit is refused with its location; the last good version stays.
        path.write_text(receivers(f"{http_sink.url}/third", extra=", urll: x"))
        state = await eventually(
            lambda: (s := running_state(settings)) and not s.ok and s, timeout=20
        )
        assert state.version == version_of(second.encode())
        [error] = state.errors
        assert error.startswith(f"{path}:2:") and "urll" in error
        await eventually(lambda: f"{path}:2:" in notifier.text(), timeout=10)
        page = notifier.metrics()
        assert 'rasd_config_reload_errors_total{config="receivers"} 1.0' in page
        assert 'rasd_config_last_reload_successful{config="receivers"} 0.0' in page
        assert f'rasd_config_version_info{{config="receivers",version="{state.version}"}} 1.0' in (
            page
        )
        result = check(settings, path)
        assert result.returncode == 2
        assert f"version {state.version} in use" in result.stdout
        assert "refused" in result.stdout and error in result.stdout
        assert error in result.stderr  # the file itself, checked

        await put(redis_client, settings, arabic_alert("rocket-attack:three"))
        await eventually(lambda: len(http_sink.posts("/second")) == 2, timeout=20)
        assert http_sink.posts("/third") == []

        # Fixed: recovered.
        fixed = receivers(f"{http_sink.url}/third")
        path.write_text(fixed)
        await uses(settings, fixed)
        await put(redis_client, settings, arabic_alert("rocket-attack:four"))
        await eventually(lambda: http_sink.posts("/third"), timeout=20)
        assert check(settings, path).returncode == 0
    finally:
        code = notifier.close()
    assert code == 0, notifier.text()


async def test_sighup_switches_receivers(settings, redis_client, http_sink, tmp_path):
    path = tmp_path / "receivers.yaml"
    first = receivers(f"{http_sink.url}/first")
    path.write_text(first)
    # The file is not looked at by itself during the test: only SIGHUP makes it reload.
    notifier = NotifyProcess(settings, path, tmp_path / "notify.log", poll="3600")
    try:
        await uses(settings, first)
        second = receivers(f"{http_sink.url}/second")
        path.write_text(second)
        notifier.proc.send_signal(signal.SIGHUP)
        await uses(settings, second)
        await put(redis_client, settings, arabic_alert("rocket-attack:one"))
        await eventually(lambda: http_sink.posts("/second"), timeout=20)
        assert http_sink.posts("/first") == []
        assert notifier.proc.poll() is None
    finally:
        code = notifier.close()
    assert code == 0, notifier.text()


async def test_removed_from_redis_when_stopped(settings, tmp_path, http_sink):
    path = tmp_path / "receivers.yaml"
    path.write_text(receivers(f"{http_sink.url}/first"))
    notifier = NotifyProcess(settings, path, tmp_path / "notify.log", poll="0.2")
    try:
        await uses(settings, path.read_text())
    finally:
        assert notifier.close() == 0, notifier.text()
    assert running_state(settings) is None


async def test_a_version_dropping_a_receiver_a_rule_names_is_refused(settings, http_sink, tmp_path):
    path = tmp_path / "receivers.yaml"
    first = receivers(f"{http_sink.url}/first")
    path.write_text(first)
    (tmp_path / "rules").mkdir()
    rule = tmp_path / "rules" / "strike.yaml"
    rule.write_text(
        "id: strike\ntitle: Strike\nseverity: high\nnotify: [desk]\nmatch:\n  any: [strike]\n"
    )
    notifier = NotifyProcess(settings, path, tmp_path / "notify.log", poll="0.2")
    try:
        await uses(settings, first)
        path.write_text(first.replace("name: desk", "name: other").replace("desk\n", "other\n"))
        state = await eventually(
            lambda: (s := running_state(settings)) and not s.ok and s, timeout=20
        )
        assert state.version == version_of(first.encode())
        assert any(e.startswith(f"{rule}:4:") and "desk" in e for e in state.errors)
    finally:
        code = notifier.close()
    assert code == 0, notifier.text()
