"""Run the stream worker in this process (what `rasd worker` does)."""

from __future__ import annotations

import gc

from rasd.settings import Settings
from rasd.streams.config import StreamsSettings


def run_worker(settings: Settings, config: StreamsSettings, publish_rules: bool = True) -> None:
    """Start the faust worker and block until it is stopped (SIGINT/SIGTERM)."""
    from faust.worker import Worker

    from rasd.streams.app import Runtime, create_app
    from rasd.topics import ensure_topics

    ensure_topics(settings)
    # faust keeps its worker data here (tables themselves live in memory and in changelogs).
    (settings.state_dir / "faust").mkdir(parents=True, exist_ok=True)
    if config.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(config.metrics_port, addr="127.0.0.1")
    runtime = Runtime(settings, config, publish_rules=publish_rules)
    app = create_app(settings, config, runtime)
    # The runtime (Redis, rule set) is a worker service, so it is up before any agent runs.
    worker = Worker(app, runtime, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    # The start-up objects (the analyser's tables, faust, pydantic) live as long as the process:
    # moved out of the collector's reach, full collections no longer stall the agents for
    # hundreds of milliseconds.
    gc.collect()
    gc.freeze()
    worker.execute_from_commandline()
