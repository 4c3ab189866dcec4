"""`rasd dev up | down | status`: the local Kafka and Redis, and the rasd processes."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rasd.devstack.kafka import KafkaBroker, kafka_round_trip
from rasd.devstack.process import ManagedProcess
from rasd.devstack.processes import PROCESSES
from rasd.devstack.redis import RedisServer, redis_ping
from rasd.settings import Settings


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    managed: str  # "local" when rasd runs it, "external" when given by RASD_* settings
    pid: int | None
    healthy: bool


def services_up(settings: Settings, log=print) -> None:
    """Start local Kafka and Redis unless external ones are configured; create the topics."""
    from rasd.topics import ensure_topics

    if settings.redis_is_local:
        log(f"redis  {RedisServer(settings).start():16} {settings.redis_dsn}")
    else:
        log(f"redis  external         {_mask(settings.redis_dsn)}")
    if settings.kafka_is_local:
        log(f"kafka  {KafkaBroker(settings).start():16} {settings.kafka_servers}")
    else:
        log(f"kafka  external         {settings.kafka_servers}")
    created = ensure_topics(settings)
    if created:
        log(f"topics created: {', '.join(created)}")


def services_down(settings: Settings, log=print) -> None:
    """Stop what `services_up` started locally; external services are left alone."""
    for name, server in (("kafka", KafkaBroker(settings)), ("redis", RedisServer(settings))):
        log(f"{name}  {'stopped' if server.stop() else 'was not running'}")


def services_status(settings: Settings) -> list[ServiceStatus]:
    redis_server, broker = RedisServer(settings), KafkaBroker(settings)
    return [
        ServiceStatus(
            "kafka",
            settings.kafka_servers,
            "local" if settings.kafka_is_local else "external",
            broker.process.pid() if settings.kafka_is_local else None,
            kafka_round_trip(settings.kafka_servers, timeout=10),
        ),
        ServiceStatus(
            "redis",
            _mask(settings.redis_dsn),
            "local" if settings.redis_is_local else "external",
            redis_server.process.pid() if settings.redis_is_local else None,
            redis_ping(settings.redis_dsn),
        ),
    ]


def _managed(settings: Settings, name: str) -> ManagedProcess:
    return ManagedProcess.in_state_dir(f"rasd-{name}", settings.state_dir)


def processes_up(settings: Settings, log=print) -> None:
    for proc in PROCESSES:
        managed = _managed(settings, proc.name)
        if managed.pid() is not None:
            log(f"{proc.name:8} already running (pid {managed.pid()})")
            continue
        pid = managed.start([sys.executable, "-m", "rasd", *proc.args])
        log(f"{proc.name:8} started (pid {pid}), log {managed.log_file}")


def processes_down(settings: Settings, log=print) -> None:
    for proc in PROCESSES:
        if _managed(settings, proc.name).stop():
            log(f"{proc.name:8} stopped")


def processes_status(settings: Settings) -> list[tuple[str, int | None]]:
    return [(proc.name, _managed(settings, proc.name).pid()) for proc in PROCESSES]


def _mask(url: str) -> str:
    """Hide a password in a redis:// URL."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
