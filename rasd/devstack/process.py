"""Background processes that outlive the command that started them, tracked by pid files."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rasd.devstack.supervisor import Supervision


class DevStackError(RuntimeError):
    """A local service could not be started or reached; the message says what to do."""


@dataclass(frozen=True)
class ManagedProcess:
    """A process started by rasd, known by its pid file and log file.

    It runs under :mod:`rasd.devstack.supervisor`, which restarts it when it exits
    unexpectedly; the pid file holds the supervisor's pid (the leader of the process group
    that :meth:`stop` signals), :meth:`supervision` says which child runs and how often it
    was restarted.
    """

    name: str
    run_dir: Path
    log_dir: Path

    @classmethod
    def in_state_dir(cls, name: str, state_dir: Path) -> ManagedProcess:
        """Pid file under ``state_dir/run``, log under ``state_dir/logs``."""
        return cls(name, state_dir / "run", state_dir / "logs")

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def state_file(self) -> Path:
        return self.run_dir / f"{self.name}.supervisor.json"

    def supervision(self) -> Supervision | None:
        """The supervisor's report, while it runs."""
        pid = self.pid()
        report = Supervision.read(self.state_file) if pid is not None else None
        return report if report is not None and report.supervisor_pid == pid else None

    def pid(self) -> int | None:
        """The pid of the running process, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _alive(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def exited(self) -> bool:
        """Whether the process is gone or has exited at least once since it was started:
        while starting a service, that means it cannot start (the supervisor would retry)."""
        if self.pid() is None:
            return True
        report = self.supervision()
        return report is not None and report.restarts > 0

    def start(self, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rasd.devstack.supervisor", str(self.state_file), "--"]
                + list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                # Its own session: Ctrl-C in the shell that ran `up` must not stop it.
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``. Returns whether something was running."""
        pid = self.pid()
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)
        return True

    def unresponsive(self, service: str, address: str) -> DevStackError:
        """The error for our process that runs but does not answer (it is left running)."""
        return DevStackError(
            f"{service} (pid {self.pid()}) runs but does not answer on {address}. "
            f"Last lines of {self.log_file}:\n{self.log_tail()}"
        )

    def give_up(self, service: str, address: str, timeout: float) -> DevStackError:
        """Stop a process that did not become healthy; the error to raise, with its log tail."""
        tail = self.log_tail()
        self.stop()
        return DevStackError(
            f"{service} did not become healthy on {address} within {timeout:.0f}s. "
            f"Last lines of {self.log_file}:\n{tail}"
        )

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it so it counts as gone.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done = 0
    return done == 0


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(check, timeout: float, interval: float = 0.25) -> bool:
    """Poll ``check()`` until it returns true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except Exception:  # noqa: BLE001 - a failing probe just means "not yet"
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
