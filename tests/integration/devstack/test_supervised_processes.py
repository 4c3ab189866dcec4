"""The local stack restarts a rasd process that dies, counts it, and still stops it for good.

A real `python -m rasd notify run` under the real supervisor; killed with SIGKILL as a crash
would; its Redis is a port where nothing listens, so the process also reports an outage."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from own_redis import free_port
from polling import poll

from rasd.devstack.process import ManagedProcess
from rasd.devstack.processes import PROCESSES, RasdProcess
from rasd.devstack.stack import process_status, start_process, stop_process
from rasd.settings import Settings

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
NOTIFY = RasdProcess("notify", ("notify", "run"))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def stack(tmp_path, monkeypatch, services):
    """Settings of a stack with no Redis listening, and the environment its processes get."""
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    env = {
        "RASD_REDIS_URL": dead_redis,
        "RASD_KAFKA_BOOTSTRAP": services.kafka_servers,
        "RASD_STATE_DIR": str(tmp_path / "state"),
        "RASD_NAMESPACE": "supervised",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(**{k.removeprefix("RASD_").lower(): v for k, v in env.items()})
    yield settings, env
    stop_process(settings, "notify")


def test_a_killed_process_is_restarted_counted_and_stopped_for_good(stack):
    settings, env = stack
    managed = start_process(settings, NOTIFY)
    supervisor = managed.pid()
    first = poll(lambda: process_status(settings, "notify").pid)
    # Redis is down: the notifier waits for it, and says so.
    status = poll(lambda: (s := process_status(settings, "notify")).note and s)
    assert status.state == "running" and status.restarts == 0
    assert status.note.startswith("redis down since")

    os.kill(first, signal.SIGKILL)
    back = poll(lambda: (s := process_status(settings, "notify")).pid not in (None, first) and s)
    assert back.restarts == 1 and back.last_exit == -signal.SIGKILL
    assert "exited with -9; restart 1" in managed.log_file.read_text()
    poll(lambda: process_status(settings, "notify").note)  # the new one is waiting for Redis

    shown = subprocess.run(
        [sys.executable, "-m", "rasd", "dev", "status"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    row = next(line for line in shown.stdout.splitlines() if "rasd notify " in line)
    assert str(back.pid) in row and "running" in row and row.split()[-2:] == ["1", "│"], row
    assert "rasd notify: redis down since" in shown.stdout

    assert stop_process(settings, "notify")
    assert not alive(supervisor) and not alive(back.pid)
    assert process_status(settings, "notify").state == "stopped"


def test_rasd_up_restarts_a_killed_worker_and_rasd_down_stops_everything(settings, tmp_path):
    """The whole `rasd up` / `rasd down` on external Kafka and Redis (nothing reaches out: no
    feeds, receivers on 127.0.0.1)."""
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds: []\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RASD_")},
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "RASD_REDIS_URL": settings.redis_dsn,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_STATE_DIR": str(settings.state_dir),
        "RASD_FEEDS_FILE": str(feeds),
        "RASD_CONSOLE_PORT": str(free_port()),
        "RASD_CONSOLE_USERS": '{"dev": "scrypt$16384$8$1$c2FsdA$aGFzaA"}',
        "RASD_CONNECTORS_METRICS_PORT": "0",
    }

    def rasd(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "rasd", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )

    up = rasd("up")
    assert up.returncode == 0, up.stdout + up.stderr
    names = [p.name for p in PROCESSES]
    try:
        pids = poll(
            lambda: (
                (s := {n: process_status(settings, n) for n in names})
                and all(st.state == "running" and st.pid for st in s.values())
                and {n: st.pid for n, st in s.items()}
            ),
            timeout=60,
        )
        supervisors = {n: _managed_pid(settings, n) for n in names}
        os.kill(pids["worker"], signal.SIGKILL)
        back = poll(
            lambda: (
                (s := process_status(settings, "worker")).pid not in (None, pids["worker"]) and s
            )
        )
        assert back.restarts == 1
        assert all(process_status(settings, n).pid == pids[n] for n in names if n != "worker")
    finally:
        down = rasd("down")
    assert down.returncode == 0, down.stdout + down.stderr
    gone = [*supervisors.values(), *pids.values(), back.pid]
    assert [pid for pid in gone if alive(pid)] == []
    assert all(process_status(settings, n).state == "stopped" for n in names)


def _managed_pid(settings: Settings, name: str) -> int:
    return ManagedProcess.in_state_dir(f"rasd-{name}", settings.state_dir).pid()
