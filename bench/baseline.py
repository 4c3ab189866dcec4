"""Run a benchmark's measurement against another version of the code, in the same run.

A benchmark compares this worktree's ``rasd`` with the ``rasd`` of a git ref (``main`` by
default) by exporting that ref's package into a temporary directory (``git archive``) and running
its own measurement in a child process whose ``rasd`` comes from there. ``rules/`` and the
corpora stay this worktree's, so only the code differs. Rounds are alternated by the caller, so
the load of the shared machine falls on both sides alike.

A child process finds the code it must measure in ``RASD_BENCH_CODE`` (see `code_root`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = "RASD_BENCH_CODE"


def code_root() -> Path:
    """The directory whose ``rasd`` a benchmark measures: this worktree unless a parent says."""
    return Path(os.environ.get(ENV) or ROOT)


def use_code() -> Path:
    """Put `code_root` first on ``sys.path`` (call before importing ``rasd``)."""
    root = code_root()
    sys.path.insert(0, str(root))
    return root


@contextmanager
def exported(ref: str) -> Iterator[Path]:
    """The ``rasd`` package of git ``ref``, in a temporary directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="rasd-baseline-") as tmp:
        try:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "rasd"],
                check=True,
                capture_output=True,
            ).stdout
        except subprocess.CalledProcessError as exc:
            raise SystemExit(f"cannot export {ref!r}: {exc.stderr.decode().strip()}") from None
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield Path(tmp)


def revision(ref: str) -> str:
    """``ref`` and its short commit id, for the report."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", ref],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{ref} ({commit})" if commit else ref


def run_child(script: Path, args: list[str], code: Path) -> dict:
    """Run ``script args`` with ``rasd`` from ``code``; its last stdout line is a JSON object."""
    from rasd.startup import huge_pages_environment  # this worktree's (the parent's) rasd

    # As `rasd worker` runs its matcher: glibc's malloc on huge pages (rasd.startup), on both
    # sides, so that a comparison is of the code, not of the allocator.
    env = {**(huge_pages_environment(os.environ) or os.environ), ENV: str(code)}
    done = subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{script.name} on {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def alternated(script: Path, args: list[str], ref: str, rounds: int) -> dict[str, list[dict]]:
    """``rounds`` results of ``script args`` for ``ref``'s code ("baseline", left out when
    ``ref`` is empty) and for this worktree's ("this code"), one round of each in turn."""
    sides: dict[str, list[dict]] = {"baseline": []} if ref else {}
    sides["this code"] = []
    with exported(ref) if ref else nullcontext() as code:
        for _ in range(rounds):
            if ref:
                sides["baseline"].append(run_child(script, args, code))
            sides["this code"].append(run_child(script, args, ROOT))
    return sides
