"""The rasd processes that `rasd up` starts, each one `python -m rasd <args>`.

Every part of the pipeline adds its process here once its command exists.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RasdProcess:
    name: str
    args: tuple[str, ...]


PROCESSES: tuple[RasdProcess, ...] = (
    RasdProcess("connectors", ("connectors", "run")),
    RasdProcess("worker", ("worker",)),
    RasdProcess("notify", ("notify", "run")),
)
