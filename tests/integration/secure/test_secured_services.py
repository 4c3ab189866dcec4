"""rasd against Kafka and Redis as production runs them: SASL_SSL with SCRAM, Redis over TLS.

The module starts a broker of its own (the local Kafka with an extra SASL_SSL listener and a
SCRAM-SHA-512 user) and a redis-server that speaks only TLS and wants a password, with a CA
and server certificate made for the run. A connector (`rasd ingest`), a worker and the
console's Kafka view then work through them with nothing but settings; wrong credentials
fail fast with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from pki import ServerFiles, make_server_files
from polling import poll
from pydantic import SecretStr

from rasd.connections import KafkaUnreachable, check_kafka, redis_client
from rasd.console import kafka_view
from rasd.devstack.kafka import KafkaBroker, SecureListener
from rasd.keys import RedisKeys
from rasd.models import Alert
from rasd.settings import Settings

REPO = Path(__file__).resolve().parents[3]
USER, PASSWORD = "rasd-app", "s3cret-پاس"
REDIS_PASSWORD = "redis-s3cret"

RULE = """\
id: troop-withdrawal
title: Withdrawal of troops
severity: high
match:
  any:
    - near:
        terms:
          - [withdraw, withdrawal, انسحاب]
          - [troops, forces, قوات]
        within: 5
"""

FEED = """\
<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test outlet</title><link>http://127.0.0.1/</link>
<item>
  <title>Troops begin to withdraw from the northern base</title>
  <link>http://127.0.0.1/news/secured-1</link>
  <guid>secured-1</guid>
  <description>A test item written for the secured-broker test.</description>
  <pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate>
</item>
</channel></rss>
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TlsRedis:
    """redis-server with the plain port off: TLS only, a password, the test's certificate."""

    def __init__(self, directory: Path, files: ServerFiles) -> None:
        self.dir, self.files, self.port = directory, files, free_port()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    def start(self, settings: Settings) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        # `--tls-auth-clients optional`: the client proves itself by password, as managed
        # Redis services do; the server's certificate is what the client checks.
        self.proc = subprocess.Popen(
            [
                binary,
                *("--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1"),
                *("--tls-cert-file", str(self.files.cert), "--tls-key-file", str(self.files.key)),
                *("--tls-ca-cert-file", str(self.files.ca), "--tls-auth-clients", "optional"),
                *("--requirepass", REDIS_PASSWORD, "--dir", str(self.dir), "--save", ""),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError("redis-server with TLS exited at start")
            try:
                with redis_client(settings, socket_timeout=1, socket_connect_timeout=1) as c:
                    return bool(c.ping())
            except redis.exceptions.ConnectionError:
                return False

        poll(answers, 20, "redis-server over TLS")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@dataclass(frozen=True)
class Secured:
    settings: Settings  # how a rasd process reaches the secured services
    files: ServerFiles
    work: Path

    def env(self, **overrides: str) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "RASD_KAFKA_BOOTSTRAP": s.kafka_servers,
            "RASD_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "RASD_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "RASD_KAFKA_SASL_USERNAME": USER,
            "RASD_KAFKA_SASL_PASSWORD": PASSWORD,
            "RASD_KAFKA_SSL_CAFILE": str(self.files.ca),
            "RASD_REDIS_URL": s.redis_dsn,
            "RASD_REDIS_SSL_CA_FILE": str(self.files.ca),
            "RASD_NAMESPACE": s.namespace,
            "RASD_TOPIC_PARTITIONS": str(s.topic_partitions),
            "RASD_STATE_DIR": str(s.state_dir),
            "RASD_RULES_DIR": str(self.work / "rules"),
            "RASD_FEEDS_FILE": str(self.work / "no-feeds.yaml"),
            "RASD_STREAMS_SESSION_TIMEOUT": "6",
            "RASD_STREAMS_HEARTBEAT_INTERVAL": "1",
            "RASD_STREAMS_COMMIT_INTERVAL": "0.5",
            "RASD_STREAMS_RULES_POLL_INTERVAL": "0.5",
            **overrides,
        }


def rasd(secured: Secured, *args: str, timeout: float = 60, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "rasd", *args],
        cwd=REPO,
        env=secured.env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def secured(tmp_path_factory) -> Secured:
    work = tmp_path_factory.mktemp("secured")
    files = make_server_files(work / "pki")
    local = Settings(
        state_dir=work / "state",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_heap="256m",
    )
    broker = KafkaBroker(local, SecureListener(free_port(), files.keystore, {USER: PASSWORD}))
    redis_server = TlsRedis(work / "redis", files)
    settings = Settings(
        kafka_bootstrap=f"127.0.0.1:{broker.secure.port}",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username=USER,
        kafka_sasl_password=PASSWORD,
        kafka_ssl_cafile=files.ca,
        redis_url=f"rediss://:{REDIS_PASSWORD}@127.0.0.1:{redis_server.port}/0",
        redis_ssl_ca_file=files.ca,
        namespace="secured",
        topic_partitions=2,
        state_dir=work / "rasd-state",
    )
    (work / "rules").mkdir()
    (work / "rules" / "withdrawal.yaml").write_text(RULE)
    try:
        broker.start()
        redis_server.start(settings)
        yield Secured(settings, files, work)
    finally:
        redis_server.stop()
        broker.stop()


def test_connector_worker_and_console_over_sasl_ssl_and_tls_redis(secured, tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED)
    ingested = rasd(secured, "ingest", str(feed))
    assert ingested.returncode == 0, ingested.stderr
    assert "1 new articles of 1" in ingested.stdout

    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "rasd", "worker"],
            cwd=REPO,
            env=secured.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        client = redis_client(secured.settings)

        def alert_written() -> list:
            if worker.poll() is not None:
                raise AssertionError(f"worker exited:\n{log.read_text()[-3000:]}")
            return client.xrange(RedisKeys(secured.settings).outbox)

        entries = poll(alert_written, 120, "the worker's alert in the outbox over TLS")
        alert = Alert.model_validate_json(entries[0][1]["alert"])
        assert alert.rule == "troop-withdrawal"
        client.close()

        # The console's Kafka view reads the topic and the worker's committed offsets.
        articles = kafka_view.last_articles(secured.settings, 5)
        assert [a.title for a in articles] == ["Troops begin to withdraw from the northern base"]
        lag = poll(
            lambda: [
                p
                for p in kafka_view.consumer_lag(secured.settings)
                if p.group.endswith("-match")
                and p.topic == secured.settings.topic("articles")
                and p.committed > 0
            ],
            60,
            "the worker's committed offset in the console's lag view",
            interval=0.2,
        )
        assert sum(p.lag for p in lag) == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def test_a_wrong_kafka_password_fails_fast_with_the_reason(secured, tmp_path):
    wrong = secured.settings.model_copy(update={"kafka_sasl_password": SecretStr("wrong")})
    started = time.monotonic()
    with pytest.raises(KafkaUnreachable, match="invalid credentials") as refused:
        check_kafka(wrong)
    assert refused.value.refused
    assert time.monotonic() - started < 5

    feed = tmp_path / "feed.xml"
    feed.write_text(FEED)
    for command in (["ingest", str(feed)], ["worker"], ["console"]):
        started = time.monotonic()
        result = rasd(secured, *command, timeout=30, RASD_KAFKA_SASL_PASSWORD="wrong")
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "SaslAuthenticationFailed" in result.stderr, result.stderr
        assert f"as '{USER}' (SCRAM-SHA-512)" in result.stderr
        assert "Traceback" not in result.stderr
        assert time.monotonic() - started < 20


def test_an_untrusted_broker_certificate_is_refused(secured, tmp_path):
    other = make_server_files(tmp_path / "other-pki")
    untrusted = secured.settings.model_copy(update={"kafka_ssl_cafile": other.ca})
    with pytest.raises(KafkaUnreachable, match="CERTIFICATE_VERIFY_FAILED") as refused:
        check_kafka(untrusted)
    assert refused.value.refused
    down = secured.settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{free_port()}"})
    with pytest.raises(KafkaUnreachable, match="ECONNREFUSED") as unreachable:
        check_kafka(down, timeout=2)
    assert not unreachable.value.refused


def test_redis_needs_the_password_and_the_ca(secured, tmp_path):
    with redis_client(secured.settings) as client:
        assert client.ping()

    no_password = secured.settings.model_copy(
        update={"redis_url": SecretStr(secured.settings.redis_dsn.replace(REDIS_PASSWORD, ""))}
    )
    with redis_client(no_password) as client, pytest.raises(redis.exceptions.AuthenticationError):
        client.ping()

    other = make_server_files(tmp_path / "other-pki")
    untrusted = secured.settings.model_copy(update={"redis_ssl_ca_file": other.ca})
    with (
        redis_client(untrusted, socket_connect_timeout=5) as client,
        pytest.raises(redis.exceptions.ConnectionError, match="certificate verify failed"),
    ):
        client.ping()


def test_dev_status_checks_the_secured_services(secured):
    result = rasd(secured, "dev", "status")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "external" in result.stdout
    assert REDIS_PASSWORD not in result.stdout


def test_config_show_masks_the_secrets(secured):
    result = rasd(secured, "config", "show", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["kafka_security_protocol"] == "SASL_SSL"
    assert shown["kafka_sasl_username"] == USER
    assert shown["kafka_sasl_password"] == "**********"
    assert REDIS_PASSWORD not in result.stdout and PASSWORD not in result.stdout
