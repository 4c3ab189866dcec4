"""Prometheus metrics of the stream worker (served when RASD_STREAMS_METRICS_PORT is set)."""

import time

from prometheus_client import Counter, Gauge

ARTICLES = Counter("rasd_stream_articles_total", "Articles read by the match agent")
MATCHES = Counter("rasd_stream_matches_total", "Matches produced", ["rule"])
DEAD_LETTERS = Counter("rasd_stream_dead_letters_total", "Records sent to the dead-letter topic")
ALERTS = Counter("rasd_alerts_written_total", "Alert revisions written to the outbox", ["kind"])
RULE_ERRORS = Counter("rasd_rule_errors_total", "Rule files or records that failed to load")
RULES_LOADED = Gauge("rasd_rules_loaded", "Rules in the worker's current rule set")
SKIPPED_RECORDS = Counter(
    "rasd_stream_skipped_records_total",
    "Times the consumer skipped a record and the partition was read again from it",
    ["topic"],
)
# Where the event loop's thread spends its CPU (ARCHITECTURE.md, Streams, "Where a worker's time
# goes"). The match stage's loop charges the thread's CPU time since its previous step to each
# step as it ends, so its steps add up to the thread's time while the stage runs; a step that
# awaits (a fetch, the deliveries, the commit, the stories' turn) also counts what the loop ran
# meanwhile. The stories agent's own synchronous work is counted apart as well (it runs inside
# one of the stage's awaits). Measured once a batch (a clock read costs about 1 us).
STAGE_CPU = Counter(
    "rasd_stream_stage_cpu_seconds_total",
    "CPU seconds of the worker's event-loop thread, by step of the match stage's loop",
    ["step"],
)
STORIES_CPU = Counter(
    "rasd_stream_stories_cpu_seconds_total",
    "CPU seconds of the stories agent's synchronous work (grouping, encoding, state writes)",
    ["step"],
)


class CpuSteps:
    """Charges this thread's CPU time to the step that has just ended.

    >>> steps = CpuSteps(STAGE_CPU, ("fetch", "match"))
    >>> steps.charge("fetch")  # the CPU time since the last charge (or since creation)
    """

    def __init__(self, counter: Counter, steps: tuple[str, ...]) -> None:
        self._children = {step: counter.labels(step) for step in steps}
        self._last = time.thread_time()

    def restart(self) -> None:
        """Charge nothing for the time since the last charge."""
        self._last = time.thread_time()

    def charge(self, step: str) -> None:
        now = time.thread_time()
        self._children[step].inc(now - self._last)
        self._last = now
