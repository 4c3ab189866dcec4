"""Run the stream worker in this process (what `rasd worker` does)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from rasd.settings import Settings
from rasd.startup import (
    collect_young_less_often,
    freeze_loaded,
    keep_full_collections_short,
    switch_threads_every,
)
from rasd.streams.config import StreamsSettings

log = logging.getLogger(__name__)


def run_worker(settings: Settings, config: StreamsSettings, publish_rules: bool = True) -> None:
    """Start the faust worker and block until it is stopped (SIGINT/SIGTERM)."""
    from faust.worker import Worker

    from rasd.streams.app import Runtime, candidates_topic, create_app
    from rasd.topics import ensure_topics

    # faust declares the candidates topic (its stories agent's only input) while it subscribes,
    # but its assignor works from the metadata it had before and leaves a topic it has not seen
    # out of the assignment ("Ignoring missing topic"): a fresh deployment's stories agent got
    # no partition until a metadata refresh minutes later. So it exists before faust starts.
    _wait_for_kafka(lambda: ensure_topics(settings, extra=[candidates_topic(settings)]))
    # faust keeps its worker data here (tables themselves live in memory and in changelogs).
    (settings.state_dir / "faust").mkdir(parents=True, exist_ok=True)
    if config.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(config.metrics_port, addr="127.0.0.1")
    # The start-up objects (the analyser's tables, the compiled rules, faust, pydantic) live as
    # long as the process: frozen once the rules are compiled, full collections no longer scan
    # them, nor stall the agents for hundreds of milliseconds.
    runtime = Runtime(settings, config, publish_rules=publish_rules, loaded=freeze_loaded)
    app = create_app(settings, config, runtime)
    # The runtime (Redis, rule set) is a worker service, so it is up before any agent runs.
    worker = Worker(app, runtime, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    # At WARNING and above faust keeps a terminal spinner that turns with every log record, and
    # sets the root logger to DEBUG to feed it: every debug call of faust and aiokafka then
    # built a record for nothing (a few per article; 2-6% of a busy worker's time).
    worker.spinner = None
    keep_full_collections_short()
    collect_young_less_often()
    switch_threads_every(config.switch_interval)
    worker.execute_from_commandline()


def _wait_for_kafka(step: Callable[[], object], max_delay: float = 10.0) -> None:
    """Run ``step`` until Kafka answers: a worker started during an outage waits it out.

    Once running, faust rides out a broker restart by itself; only the topic check before it
    would otherwise end the process.
    """
    from kafka.errors import (
        KafkaConnectionError,
        KafkaTimeoutError,
        NoBrokersAvailable,
        NodeNotReadyError,
        RequestTimedOutError,
    )

    from rasd.connections import KafkaUnreachable

    delay = 0.5
    while True:
        try:
            step()
            return
        except (
            NoBrokersAvailable,
            KafkaConnectionError,
            KafkaTimeoutError,
            NodeNotReadyError,
            RequestTimedOutError,
            KafkaUnreachable,
        ) as exc:
            # A refused login or TLS handshake is a setting to fix, not an outage to wait out.
            if isinstance(exc, KafkaUnreachable) and exc.refused:
                raise
            log.warning("Kafka unreachable (%s); retrying in %.1fs", type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, max_delay)
