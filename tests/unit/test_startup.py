"""freeze_loaded: what a process loaded leaves the collector's sight, and is still freed;
collector_paused: no automatic collection in a burst of work, the collector as it was after;
huge_pages_environment: when a program starts itself again with glibc's huge pages tunable."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from rasd.startup import (
    HUGE_PAGES_TUNABLE,
    collector_paused,
    freeze_loaded,
    huge_pages_environment,
    switch_threads_every,
)
from rasd.streams.config import StreamsSettings


class _Loaded:
    pass


def test_loaded_objects_are_frozen_and_still_freed_by_reference_counting():
    loaded = _Loaded()
    gone = weakref.ref(loaded)
    try:
        assert freeze_loaded() == gc.get_freeze_count() > 0
        assert not any(o is loaded for o in gc.get_objects())  # out of every generation
        del loaded
        assert gone() is None
    finally:
        gc.unfreeze()


def test_survivors_of_a_full_collection_are_frozen_from_then_on():
    from rasd.startup import _freeze_survivors, keep_full_collections_short

    keep_full_collections_short()
    keep_full_collections_short()  # once is enough, twice changes nothing
    try:
        assert gc.callbacks.count(_freeze_survivors) == 1
        survivor = _Loaded()
        gc.collect(1)  # a younger collection freezes nothing
        assert any(o is survivor for o in gc.get_objects())
        gc.collect()
        assert not any(o is survivor for o in gc.get_objects())
    finally:
        gc.callbacks.remove(_freeze_survivors)
        gc.unfreeze()


@contextmanager
def counted_collections() -> Iterator[list[int]]:
    """The generation of each collection that starts inside the ``with``, in order."""
    collections: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield collections
    finally:
        gc.callbacks.remove(count)


def test_no_collection_runs_while_paused_and_the_collector_resumes_after():
    with counted_collections() as collections:
        with collector_paused():
            assert not gc.isenabled()
            cycles = []
            for _ in range(50_000):  # many times the young generation's threshold
                cycle: list = []
                cycle.append(cycle)
                cycles.append(cycle)
            assert collections == []
        assert gc.isenabled()
        del cycles
        for _ in range(50_000):
            [].append(None)
            cycle = []
            cycle.append(cycle)
        assert collections  # allocations trigger collections again


def test_the_collector_resumes_after_an_error_and_stays_off_when_it_was_off():
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_worker_switches_threads_at_its_configured_interval(monkeypatch):
    before = sys.getswitchinterval()
    try:
        switch_threads_every(StreamsSettings().switch_interval)
        assert sys.getswitchinterval() == pytest.approx(0.05)
        monkeypatch.setenv("RASD_STREAMS_SWITCH_INTERVAL", "0.02")
        switch_threads_every(StreamsSettings().switch_interval)
        assert sys.getswitchinterval() == pytest.approx(0.02)
    finally:
        sys.setswitchinterval(before)


def test_a_switch_interval_outside_its_range_is_refused(monkeypatch):
    monkeypatch.setenv("RASD_STREAMS_SWITCH_INTERVAL", "0")
    with pytest.raises(ValueError, match="switch_interval"):
        StreamsSettings()


def test_the_huge_pages_tunable_is_added_to_what_the_environment_holds():
    env = {"PATH": "/bin"}
    assert huge_pages_environment(env, "glibc 2.36") == {
        "PATH": "/bin",
        "GLIBC_TUNABLES": HUGE_PAGES_TUNABLE,
    }
    other = {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}
    assert huge_pages_environment(other, "glibc 2.35")["GLIBC_TUNABLES"] == (
        f"glibc.malloc.arena_max=2:{HUGE_PAGES_TUNABLE}"
    )
    assert env == {"PATH": "/bin"}  # a new mapping: the caller's is left as it was


@pytest.mark.parametrize(
    ("tunables", "libc"),
    [
        (HUGE_PAGES_TUNABLE, "glibc 2.36"),  # already started with it: no second restart
        ("glibc.malloc.hugetlb=0", "glibc 2.36"),  # the user's own choice
        ("", "glibc 2.34"),  # before the tunable existed
        ("", ""),  # not glibc (musl, macOS)
        ("", "glibc 2"),
    ],
)
def test_no_restart_when_the_tunable_is_set_or_the_c_library_has_none(tunables, libc):
    assert huge_pages_environment({"GLIBC_TUNABLES": tunables}, libc) is None


def test_huge_pages_are_a_setting_of_the_worker(monkeypatch):
    assert StreamsSettings().huge_pages is True
    monkeypatch.setenv("RASD_STREAMS_HUGE_PAGES", "false")
    assert StreamsSettings().huge_pages is False


def test_young_collections_come_less_often_and_the_older_ones_keep_their_ratios():
    from rasd.startup import YOUNG_COLLECTION_THRESHOLD, collect_young_less_often

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        collect_young_less_often()
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)
        with counted_collections() as collections:
            kept = [[] for _ in range(3 * YOUNG_COLLECTION_THRESHOLD)]  # containers are tracked
        assert 1 <= len(collections) <= 3  # at 700, about 40
        del kept
    finally:
        gc.set_threshold(*before)
