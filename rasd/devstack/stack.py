"""`rasd dev up | down | status`: the local Kafka and Redis, and the rasd processes."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rasd.devstack.kafka import KafkaBroker, kafka_round_trip
from rasd.devstack.process import ManagedProcess
from rasd.devstack.processes import PROCESSES, RasdProcess
from rasd.devstack.redis import RedisServer, redis_ping
from rasd.devstack.supervisor import RESTART_POLICY
from rasd.procstatus import read_status
from rasd.settings import Settings


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    managed: str  # "local" when rasd runs it, "external" when given by RASD_* settings
    pid: int | None
    healthy: bool
    restarts: int = 0


@dataclass(frozen=True)
class ProcessStatus:
    """A rasd process of the local stack, as its supervisor and the process itself tell."""

    name: str
    pid: int | None  # the process itself (not its supervisor); None while it is down
    state: str  # "starting", "running", "restarting", "stopping" or "stopped"
    restarts: int = 0
    last_exit: int | None = None
    note: str = ""  # what the process reports waiting for, e.g. "redis down since ..."


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
            kafka_round_trip(settings, timeout=10),
            _restarts(broker.process) if settings.kafka_is_local else 0,
        ),
        ServiceStatus(
            "redis",
            _mask(settings.redis_dsn),
            "local" if settings.redis_is_local else "external",
            redis_server.process.pid() if settings.redis_is_local else None,
            redis_ping(settings),
            _restarts(redis_server.process) if settings.redis_is_local else 0,
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
        start_process(settings, proc)
        log(f"{proc.name:8} started (restart: {RESTART_POLICY}), log {managed.log_file}")


def start_process(settings: Settings, proc: RasdProcess) -> ManagedProcess:
    """Start one rasd process under its supervisor (restarted whenever it exits)."""
    managed = _managed(settings, proc.name)
    managed.start([sys.executable, "-m", "rasd", *proc.args])
    return managed


def stop_process(settings: Settings, name: str) -> bool:
    return _managed(settings, name).stop()


def processes_down(settings: Settings, log=print) -> None:
    for proc in PROCESSES:
        if _managed(settings, proc.name).stop():
            log(f"{proc.name:8} stopped")


def processes_status(settings: Settings) -> list[ProcessStatus]:
    return [process_status(settings, proc.name) for proc in PROCESSES]


def process_status(settings: Settings, name: str) -> ProcessStatus:
    managed = _managed(settings, name)
    report = managed.supervision()
    if report is None:
        # Either stopped, or its supervisor has not started it yet.
        return ProcessStatus(name, None, "stopped" if managed.pid() is None else "starting")
    note = ""
    own = read_status(settings.state_dir, report.child_pid) if report.child_pid else None
    if own and own.get("redis") == "down":
        note = f"redis down since {own.get('since')}: {own.get('error', '')}"
    elif report.state == "restarting":
        note = f"exited with {report.last_exit}; restarting at {report.next_start_at}"
    return ProcessStatus(
        name, report.child_pid, report.state, report.restarts, report.last_exit, note
    )


def _restarts(process: ManagedProcess) -> int:
    report = process.supervision()
    return report.restarts if report else 0


def _mask(url: str) -> str:
    """Hide a password in a redis:// URL."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
