"""What a running rasd process says about itself, for `rasd dev status`.

A process that can lose a dependency it cannot do without (Redis, for a notifier or the
console) keeps running and retries; this file is how it tells the local stack's status what
it is waiting for. One JSON file per process, ``<state_dir>/run/status-<pid>.json``, replaced
atomically and removed when the process ends:

    {"part": "notify", "pid": 4242, "redis": "down", "since": "2026-...", "error": "..."}

A file left by a process that was killed names a pid that is gone, and is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from rasd.settings import Settings


def status_path(state_dir: Path, pid: int) -> Path:
    return state_dir / "run" / f"status-{pid}.json"


class StatusFile:
    def __init__(self, settings: Settings, part: str) -> None:
        self.path = status_path(settings.state_dir, os.getpid())
        self.fields: dict[str, object] = {"part": part, "pid": os.getpid()}

    def update(self, **fields: object) -> None:
        """Merge ``fields`` (None removes one) and write the file; never fails the caller."""
        for name, value in fields.items():
            if value is None:
                self.fields.pop(name, None)
            else:
                self.fields[name] = value
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text(json.dumps(self.fields))
            os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def read_status(state_dir: Path, pid: int) -> dict | None:
    try:
        return json.loads(status_path(state_dir, pid).read_text())
    except (OSError, ValueError):
        return None
