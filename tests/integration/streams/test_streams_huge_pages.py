"""`rasd worker` starts itself again with glibc's malloc on transparent huge pages (same pid),
unless RASD_STREAMS_HUGE_PAGES is false; either way it goes on to work."""

from __future__ import annotations

from pathlib import Path

import pytest
from streams_harness import WITHDRAWAL, produce, wait_for, wait_group, wait_outbox

from rasd.models import Article
from rasd.startup import HUGE_PAGES_TUNABLE, huge_pages_environment

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "streams"
THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def _huge_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    return 0


@pytest.mark.skipif(
    huge_pages_environment({}) is None, reason="the C library has no huge pages tunable"
)
def test_the_worker_restarts_itself_on_huge_pages_and_works(settings, rules_dir, workers):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    on = workers()
    off = workers(RASD_STREAMS_HUGE_PAGES="false")
    pid = on.proc.pid
    wait_for(
        lambda: HUGE_PAGES_TUNABLE in _environ(pid).get("GLIBC_TUNABLES", ""),
        60,
        "the worker started again with the tunable",
    )
    # Both in the group: past the point where a worker restarts itself.
    wait_group(settings, 2, 60)
    assert on.alive() and on.proc.pid == pid  # the same process, not a child
    assert "GLIBC_TUNABLES" not in _environ(off.proc.pid)
    line = (FIXTURES / "seed_story.jsonl").read_text(encoding="utf-8").splitlines()[0]
    produce(settings, [Article.model_validate_json(line)])
    wait_outbox(settings, 1, 60)
    if THP.exists() and "[never]" not in THP.read_text():  # the kernel gives huge pages
        # The analyser's cache tables and the rules' index are in huge pages.
        assert _huge_kb(pid) > 0
