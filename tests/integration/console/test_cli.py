"""`rasd console` serves the console; `rasd console hash-password` makes a user entry."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from rasd.cli import app
from rasd.console.passwords import verify_password

pytestmark = pytest.mark.integration


def test_hash_password_prints_a_users_entry():
    result = CliRunner().invoke(
        app, ["console", "hash-password", "alice"], input="s3cret pass\ns3cret pass\n"
    )
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output.strip().splitlines()[-1])
    assert verify_password("s3cret pass", entry["alice"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_console_command_serves_until_interrupted(settings, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "RASD_REDIS_URL": settings.redis_dsn,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_CONSOLE_PORT": str(port),
        "RASD_RULES_DIR": str(tmp_path / "rules"),
        "RASD_CONSOLE_USERS": "{}",
    }
    refused = subprocess.run(
        [sys.executable, "-m", "rasd", "console"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "RASD_CONSOLE_USERS" in refused.stderr

    env["RASD_CONSOLE_USERS"] = json.dumps({"a": "scrypt$16384$8$1$c2FsdA$aGFzaA"})
    process = subprocess.Popen(
        [sys.executable, "-m", "rasd", "console"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert status == 200
        assert httpx.get(f"http://127.0.0.1:{port}/alerts").status_code == 303
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, process.stdout.read()
