"""What a process does once it has loaded what it keeps: rules, gazetteer, models, modules.

The garbage collector's full collections walk every tracked object, and at start those are
mostly what was just loaded and lives as long as the process (the compiled rules and
gazetteer, imported modules, camel-tools' tables): about 90,000 objects, walked again at every
full collection of a first pass over unseen text, where they cost a fifth of the time (see
ARCHITECTURE.md, cold analysis). ``gc.freeze()`` moves them out of the collector's sight.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

# glibc's malloc tunable (2.35 and later) that has it ask the kernel for transparent huge pages
# (madvise) for the heap and for the blocks it maps: the tables of the analyser's big caches.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def freeze_loaded() -> int:
    """Collect what start-up left over, then freeze what remains; returns the frozen count.

    Frozen objects are still freed by reference counting when nothing uses them any more (a
    replaced Matcher); only reference cycles among them are never collected, so call this once
    a process has loaded what it keeps, not on every reload.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def keep_full_collections_short() -> None:
    """From now on, move what survives a full collection out of the collector's reach.

    The analyser's caches grow by hundreds of thousands of objects while a process meets new
    text, and every full collection scanned them all: 250-480 ms each on the shared development
    machine, four times in a worker's first 5,000 articles, with the agents stalled meanwhile.
    What survives a full collection is long-lived (caches, rule states, connections); frozen, it
    is not scanned again, and a full collection scans only what is newer (under 30 ms). Frozen
    objects are still freed by reference counting; only a reference cycle among them that
    becomes garbage later would stay in memory (the long-lived data holds none we know of).
    """
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def _freeze_survivors(phase: str, info: dict) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


# Young collections after this many allocations (less deallocations) instead of Python's 700.
YOUNG_COLLECTION_THRESHOLD = 10_000


def collect_young_less_often() -> None:
    """Collect the young generation after ``YOUNG_COLLECTION_THRESHOLD`` allocations; the
    older generations keep Python's ratios (every 10 younger collections).

    A worker allocates mostly short-lived objects outside matching (Kafka records, faust's
    events, the stories' models), freed by reference counting: a young collection every 700
    walked the ones still alive, and every tenth one the middle generation too. In
    bench/pipeline.py's backlog the collector took 7-9 us an article that way and 3-4 at
    10,000 (``bench/taskcpu``); the matcher alone, which allocates little, 1.9 against 1.1-1.6.
    At most 10,000 young objects wait for the collector, a reference cycle among them included.
    """
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside the ``with`` (for a bounded burst of work, such as one
    batch of articles matched back to back); the collector resumes as it was after it.

    What the burst leaves alive (the analyser's new cache entries, the batch's outputs) is then
    scanned once by the next young collection instead of by each of the burst's ten or so
    (and again in the middle generation): in bench/pipeline.py's backlog the worker's collector
    took 19 ms instead of 31 for 4,500 articles. Garbage in reference cycles made meanwhile
    waits for that collection; reference counting frees the rest as before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def switch_threads_every(seconds: float) -> None:
    """Let a thread that waits for the interpreter lock take it from a busy one only after
    ``seconds`` (CPython's switch interval; 5 ms unless set).

    A worker's event loop matches a batch of articles in one stretch of Python (tens of ms).
    faust's consumer ran in a thread of its own then, and asked for the lock each time its loop
    woke: every 5 ms the matching thread was made to hand the lock over and wait to get it back,
    and paid for each hand-over beyond its length (in bench/pipeline.py's backlog the match step
    cost a median 154 us an article at 5 ms and 130 at 50 ms, six runs each, alternated;
    ARCHITECTURE.md, Streams, fifteenth round). That consumer now runs on the worker's loop
    (rasd.streams.transport.ConsumerOnLoop); the threads left (the metrics server, the loop's
    executor for file reads) wake rarely, and the longer interval keeps them from cutting a
    batch into 5 ms slices when they do. None of theirs is that urgent.
    """
    sys.setswitchinterval(seconds)


def huge_pages_environment(
    environ: Mapping[str, str], libc: str | None = None
) -> dict[str, str] | None:
    """``environ`` with glibc's malloc set to use transparent huge pages; None when there is
    nothing to change: the tunable is already set (by an earlier start, or by the user, who may
    have set it to 0), or the C library is not glibc 2.35 or later (``libc`` as
    ``os.confstr("CS_GNU_LIBC_VERSION")`` says it: ``"glibc 2.36"``).

    >>> huge_pages_environment({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, "glibc 2.36")
    {'GLIBC_TUNABLES': 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1'}
    >>> huge_pages_environment({}, "glibc 2.31") is None
    True
    """
    tunables = environ.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb=" in tunables:
        return None
    name, _, version = (libc if libc is not None else _libc()).partition(" ")
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return None
    if name != "glibc" or (major, minor) < (2, 35):
        return None
    return {**environ, "GLIBC_TUNABLES": f"{tunables}:{HUGE_PAGES_TUNABLE}".lstrip(":")}


def _libc() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):  # not glibc, or not a POSIX system
        return ""


def restart_with_huge_pages() -> None:
    """Replace this program by itself (same process id, arguments and environment) with
    glibc's malloc using transparent huge pages, unless it already does (then return).

    glibc reads its tunables once, when a program starts, so the setting needs a new start;
    ``execve`` keeps the process id, so a supervisor, a pid file or a ``kill`` still names it.
    Why: the analyser's caches are dictionaries of hundreds of thousands of entries, read at
    random, in tables that malloc maps; on 4 KB pages a worker's matching pays for the page
    faults that fill them and for a translation miss on most lookups (bench/pipeline.py's
    backlog, six rounds a side alternated: 154-190 us of worker CPU an article, mean 173,
    against 170-240, mean 212; a matcher's first pass over 5,000 articles: half the page faults,
    the same resident memory; ARCHITECTURE.md, Streams, seventeenth round). The kernel uses huge
    pages only where they fit (a mapping of 2 MB or more), so a small process is unchanged.
    Only for a program's entry point (a CLI command): called from a library, it would replace
    the caller's process.
    """
    environ = huge_pages_environment(os.environ)
    if environ is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)
