"""Waiting for a condition in a test: poll it with a deadline, never sleep a guessed time.

``poll`` for plain tests, ``eventually`` inside a coroutine (the predicate may be a coroutine
function too). Both return the predicate's first true value, so a test can wait for a thing
and use it (``entries = poll(read_outbox, what="the alert")``), and fail saying what did not
happen in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def poll(
    check: Callable[[], object],
    timeout: float = 30.0,
    what: str = "condition",
    interval: float = 0.05,
):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g} s")
        time.sleep(interval)


async def eventually(
    predicate: Callable[[], object],
    timeout: float = 30.0,
    what: str = "condition",
    interval: float = 0.02,
):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g} s")
        await asyncio.sleep(interval)
