"""ConfigWatcher on a real file: new versions load, invalid ones are refused and reported,
the last good version stays, metrics follow."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from rasd.configwatch import ConfigWatcher, ReloadState, ReloadStates
from rasd.connectors.config import parse_feeds
from rasd.yamlerrors import ConfigInvalid

GOOD = "feeds:\n  - {name: one, outlet: One, url: 'http://127.0.0.1/one'}\n"
TWO = GOOD + "  - {name: two, outlet: Two, url: 'http://127.0.0.1/two'}\n"
BAD = GOOD + "  - {name: two, outlet: Two, url: 'ftp://127.0.0.1/two'}\n"


def metric(name: str, kind: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"config": kind})


def watcher(path, kind: str) -> ConfigWatcher:
    return ConfigWatcher(path, parse_feeds, kind=kind)


def names(config) -> list[str]:
    return [f.name for f in config.feeds]


def test_new_version_loaded_invalid_refused_then_fixed(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    w = watcher(path, "unit-a")
    assert names(w.load()) == ["one"]
    first = w.version
    assert w.check() is None  # unchanged bytes

    path.write_text(BAD)
    errors_before = metric("rasd_config_reload_errors_total", "unit-a") or 0
    assert w.check() is None
    assert names(w.current) == ["one"] and w.version == first
    [error] = w.errors
    assert str(error).startswith(f"{path}:3:")
    assert "feeds.1.url" in error.message
    assert metric("rasd_config_reload_errors_total", "unit-a") == errors_before + 1
    assert metric("rasd_config_last_reload_successful", "unit-a") == 0
    # The same refused bytes are not reported again ...
    assert w.check() is None
    assert metric("rasd_config_reload_errors_total", "unit-a") == errors_before + 1
    # ... unless asked (SIGHUP).
    assert w.check(force=True) is None
    assert metric("rasd_config_reload_errors_total", "unit-a") == errors_before + 2

    path.write_text(TWO)
    assert names(w.check()) == ["one", "two"]
    assert w.errors == [] and w.version != first
    assert metric("rasd_config_last_reload_successful", "unit-a") == 1
    assert REGISTRY.get_sample_value(
        "rasd_config_version_info", {"config": "unit-a", "version": w.version}
    )
    assert (
        REGISTRY.get_sample_value(
            "rasd_config_version_info", {"config": "unit-a", "version": first}
        )
        is None
    )


def test_start_refuses_an_invalid_file(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds: [\n")
    with pytest.raises(ConfigInvalid) as caught:
        watcher(path, "unit-b").load()
    assert str(caught.value.errors[0]).startswith(f"{path}:")


def test_removed_file_keeps_the_last_version_and_back_to_it_clears_the_error(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    w = watcher(path, "unit-c")
    w.load()
    path.unlink()
    assert w.check() is None
    assert "cannot read" in str(w.errors[0]) and names(w.current) == ["one"]
    path.write_text(GOOD)
    assert w.check() is None
    assert w.errors == [] and w.state("p").ok


def test_state_lines_name_the_error(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    w = watcher(path, "unit-d")
    w.load()
    path.write_text(BAD)
    w.check()
    state = ReloadState.model_validate_json(w.state("host-1").model_dump_json())
    lines = state.describe()
    assert lines[0].startswith(f"{path}: version {w.version} in use since ")
    assert lines[0].endswith(" UTC (host-1)")
    assert "refused" in lines[1] and lines[2].strip().startswith(f"{path}:3:")
    # A process that stopped heartbeating is not shown.
    stale = state.model_copy(update={"seen_at": state.seen_at.replace(year=2000)})
    assert ReloadStates.decode({b"a": state.model_dump_json(), b"b": stale.model_dump_json()}) == [
        state
    ]


async def test_watch_applies_a_change_and_a_request(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    w = ConfigWatcher(path, parse_feeds, kind="unit-e", interval=3600)
    w.load()
    applied: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()

    async def on_change(config) -> None:
        await applied.put(names(config))

    task = asyncio.create_task(w.watch(on_change, stop))
    try:
        path.write_text(TWO)
        # The interval is an hour: only the request (SIGHUP) makes it look.
        w.request()
        assert await asyncio.wait_for(applied.get(), 5) == ["one", "two"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_version_that_cannot_be_applied_is_refused_and_the_old_one_stays(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    w = ConfigWatcher(path, parse_feeds, kind="unit-f", interval=3600)
    w.load()
    first = w.version
    stop = asyncio.Event()
    attempts: asyncio.Queue = asyncio.Queue()

    async def on_change(config) -> None:
        await attempts.put(names(config))
        raise RuntimeError("receiver client could not be built")

    task = asyncio.create_task(w.watch(on_change, stop))
    try:
        path.write_text(TWO)
        w.request()
        assert await asyncio.wait_for(attempts.get(), 5) == ["one", "two"]
        deadline = asyncio.get_running_loop().time() + 5
        while not w.errors:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert w.version == first and names(w.current) == ["one"]
    assert "could not be applied: RuntimeError" in str(w.errors[0])
    assert not w.state("p").ok and w.state("p").failed_version != first


class WrittenInPlace(ConfigWatcher):
    """A watcher whose read falls between an in-place writer's truncation and its write:
    the read returns what the file held (nothing), then the writer finishes."""

    rest: str | None = None

    def _read(self) -> bytes:
        data = super()._read()
        if self.rest is not None:
            self.path.write_text(self.rest)
            self.rest = None
        return data


def test_a_file_caught_half_written_is_not_refused_and_loads_when_complete(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD)
    w = WrittenInPlace(path, parse_feeds, kind="unit-g", interval=3600)
    w.load()
    errors_before = metric("rasd_config_reload_errors_total", "unit-g") or 0
    path.write_text("")  # the writer has truncated the file ...
    w.rest = TWO  # ... and writes the new version just after the watcher's read
    assert w.check() is None
    assert w.errors == [] and names(w.current) == ["one"]
    assert metric("rasd_config_reload_errors_total", "unit-g") == errors_before
    assert names(w.check()) == ["one", "two"]  # the next poll sees it complete
