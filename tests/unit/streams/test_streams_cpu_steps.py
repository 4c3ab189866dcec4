"""The event loop's CPU by step (rasd_stream_stage_cpu_seconds_total): time goes to the step
that ended, and a wait that used no CPU counts next to nothing."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter

from rasd.streams.metrics import CpuSteps


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_each_step_gets_the_cpu_time_since_the_previous_charge():
    counter = Counter("cpu", "test", ["step"], registry=CollectorRegistry())
    steps = CpuSteps(counter, ("busy", "idle", "skipped"))
    spin(0.02)
    steps.charge("busy")
    time.sleep(0.05)  # no CPU
    steps.charge("idle")
    spin(0.02)
    steps.restart()
    busy = counter.labels("busy")._value.get()
    idle = counter.labels("idle")._value.get()
    assert 0.02 <= busy < 0.2
    assert idle < 0.01
    steps.charge("skipped")
    assert counter.labels("skipped")._value.get() < 0.01  # the spin before restart() is not counted
