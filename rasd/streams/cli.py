"""`rasd worker`: the stream processing worker."""

from __future__ import annotations

import typer

from rasd.cliutil import settings, validated


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    publish_rules: bool = typer.Option(
        True,
        "--publish-rules/--no-publish-rules",
        help="Publish the rules directory to the rules topic (at start, then as faust's leader).",
    ),
) -> None:
    """Match articles against the rules, group stories, escalate; write alerts to the outbox.

    Run several to share the work (they split the topic partitions between them).
    """
    from rasd.streams.config import StreamsSettings
    from rasd.streams.worker import run_worker

    s = settings()
    config = validated(StreamsSettings, "RASD_STREAMS_")
    if config.huge_pages:
        from rasd.startup import restart_with_huge_pages

        restart_with_huge_pages()  # returns once malloc uses them (or cannot)
    run_worker(s, config, publish_rules=publish_rules)
