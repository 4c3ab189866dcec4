"""Keep one process running: the local stack's ``restart: unless-stopped``.

    python -m rasd.devstack.supervisor STATE_FILE -- COMMAND [ARGS...]

The supervisor starts COMMAND, and whenever it exits (crash, ``kill -9``, a non-zero or even a
zero exit code) starts it again after a delay, as Docker does for a container with
``restart: unless-stopped``: 0.1 s doubled after each restart up to 60 s, and back to 0.1 s
once the process has run for 10 s. Only a stop asked for (SIGTERM, SIGINT, SIGHUP to the
supervisor, which `rasd down` sends to the whole process group) ends it.

STATE_FILE (JSON, replaced atomically) is what `rasd dev status` shows: the child's pid, how
often it was restarted, its last exit and, while waiting to restart, when it starts again. The
child gets SIGTERM if the supervisor itself dies (``PR_SET_PDEATHSIG``), so a killed supervisor
leaves no orphan holding the port.

Why our own: a supervisor (supervisord, systemd user units) is one more daemon to install and
configure per machine, for ~100 lines that only need to start, wait and restart.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESTART_POLICY = "unless-stopped"  # docker-compose.yml uses the same for every service
INITIAL_DELAY = 0.1
MAX_DELAY = 60.0
# A process that ran this long was healthy: the next crash restarts it quickly again.
RESET_AFTER = 10.0

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Supervision:
    """What a supervisor reports about its process."""

    supervisor_pid: int
    child_pid: int | None
    state: str  # "running", "restarting" (waiting for the delay) or "stopping"
    restarts: int
    started_at: str | None = None
    last_exit: int | None = None  # exit code, negative for a signal (-9 after kill -9)
    last_exit_at: str | None = None
    next_start_at: str | None = None

    @classmethod
    def read(cls, path: Path) -> Supervision | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)


@dataclass
class Backoff:
    """Docker's restart delay: doubles from ``initial`` up to ``maximum``; a process that ran
    ``reset_after`` seconds or more starts again from ``initial``."""

    initial: float = INITIAL_DELAY
    maximum: float = MAX_DELAY
    reset_after: float = RESET_AFTER
    current: float = 0.0

    def after_exit(self, ran_for: float) -> float:
        """The delay before the next start, for a process that exited after ``ran_for`` s."""
        if self.current == 0.0 or ran_for >= self.reset_after:
            self.current = self.initial
        else:
            self.current = min(self.current * 2, self.maximum)
        return self.current


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _say(message: str) -> None:
    # The log file is the child's stdout too, so a restart is visible next to the crash.
    print(f"{_now()} supervisor: {message}", flush=True)


def supervise(state_file: Path, command: list[str]) -> int:
    name = state_file.name.removesuffix(".supervisor.json")
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)

    restarts, backoff = 0, Backoff()
    last_exit = last_exit_at = None
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        Supervision(
            os.getpid(), child.pid, "running", restarts, _now(), last_exit, last_exit_at
        ).write(state_file)
        code = child.wait()
        if stopping:
            break
        delay = backoff.after_exit(time.monotonic() - started)
        restarts += 1
        last_exit, last_exit_at = code, _now()
        _say(f"{name} exited with {code}; restart {restarts} in {delay:.1f}s")
        resume = datetime.fromtimestamp(time.time() + delay, UTC).isoformat(timespec="seconds")
        Supervision(
            os.getpid(), None, "restarting", restarts, None, last_exit, last_exit_at, resume
        ).write(state_file)
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    if child is not None and child.poll() is None:
        Supervision(os.getpid(), child.pid, "stopping", restarts).write(state_file)
        child.wait()  # `rasd down` SIGKILLs the group if this takes too long
    state_file.unlink(missing_ok=True)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    return supervise(Path(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
