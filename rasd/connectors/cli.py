"""`rasd connectors run|status|check` and `rasd ingest`."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

connectors_app = typer.Typer(no_args_is_help=True, help="RSS/Atom feeds into Kafka.")
err = Console(stderr=True)
out = Console()

FeedsOption = typer.Option(None, "--feeds", help="Feeds file (default: settings feeds_file).")


def register(app: typer.Typer) -> None:
    app.add_typer(connectors_app, name="connectors")
    app.command("ingest")(ingest)


def _settings():
    from rasd.cli import settings

    return settings()


def _load(path: Path | None):
    from rasd.connectors.config import load_feeds

    return _refuse_invalid(lambda: load_feeds(path or _settings().feeds_file))


def _refuse_invalid(load):
    from rasd.yamlerrors import ConfigInvalid

    try:
        return load()
    except ConfigInvalid as exc:
        for error in exc.errors:
            err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None


def _overrides(config, interval: float | None, lease_ttl: float | None):
    """``run --interval/--lease-ttl`` applied to every version of feeds.yaml."""
    if interval is None and lease_ttl is None:
        return config
    poller = config.poller.model_copy(
        update={k: v for k, v in {"interval": interval, "lease_ttl": lease_ttl}.items() if v}
    )
    feeds = [f.model_copy(update={"interval": interval}) if interval else f for f in config.feeds]
    return config.model_copy(update={"poller": poller, "feeds": feeds})


@connectors_app.command("check")
def check(feeds: Path = FeedsOption) -> None:
    """Validate the feeds file; exit 2 with file:line:column errors if it is invalid."""
    config = _load(feeds)
    out.print(f"{len(config.feeds)} feeds OK")


@connectors_app.command("run")
def run(
    feeds: Path = FeedsOption,
    metrics_port: int = typer.Option(
        9464, envvar="RASD_CONNECTORS_METRICS_PORT", help="Prometheus port; 0 to disable."
    ),
    interval: float = typer.Option(None, help="Override every feed's poll interval (seconds)."),
    lease_ttl: float = typer.Option(None, help="Override the feed lease TTL (seconds)."),
) -> None:
    """Poll the feeds into the articles topic until SIGTERM/SIGINT (then flush and exit).

    The feeds file is watched: a new valid version is switched to (also on SIGHUP); an
    invalid one is refused and reported, and the last good version keeps polling."""
    import redis.asyncio
    from kafka.errors import KafkaError
    from redis.exceptions import RedisError

    from rasd.configwatch import ConfigWatcher, ReloadStates
    from rasd.connectors.config import parse_feeds
    from rasd.connectors.poller import RssConnector
    from rasd.topics import ensure_topics

    settings = _settings()
    watcher = ConfigWatcher(
        feeds or settings.feeds_file,
        lambda text, where: _overrides(parse_feeds(text, where), interval, lease_ttl),
        kind="feeds",
        interval=settings.config_poll_interval,
    )
    config = _refuse_invalid(watcher.load)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ensure_topics(settings)
    if metrics_port:
        from prometheus_client import start_http_server

        try:
            start_http_server(metrics_port)
        except OSError as exc:
            err.print(
                f"[red]error:[/red] metrics port {metrics_port}: {escape(str(exc))} "
                "(a second connector on this host needs its own --metrics-port, or 0)"
            )
            raise typer.Exit(2) from None

    async def main() -> None:
        connector = RssConnector(settings, config)
        try:
            await connector.start()
        except (RedisError, KafkaError, OSError) as exc:
            err.print(f"[red]error:[/red] cannot start: {escape(str(exc) or type(exc).__name__)}")
            raise typer.Exit(1) from None
        stop = asyncio.Event()

        def stopping() -> None:
            connector.stop()
            stop.set()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping)
        loop.add_signal_handler(signal.SIGHUP, watcher.request)
        err.print(f"polling {len(config.feeds)} feeds as {connector.owner}")
        client = redis.asyncio.Redis.from_url(settings.redis_dsn)
        watch = asyncio.create_task(
            watcher.watch(
                connector.reconfigure,
                stop,
                states=ReloadStates(settings, connector.owner),
                client=client,
            )
        )
        try:
            await connector.run()
        finally:
            stop.set()
            await watch
            await client.aclose()

    asyncio.run(main())


@connectors_app.command("status")
def status() -> None:
    """A table of every feed's health, as the connectors last recorded it."""
    import redis

    from rasd.configwatch import ReloadStates
    from rasd.connectors.health import FeedHealthStore

    settings = _settings()
    client = redis.Redis.from_url(settings.redis_dsn)
    try:
        feeds = FeedHealthStore(settings, client).all()
        reloads = ReloadStates(settings).read(client, "feeds")
    finally:
        client.close()
    for state in reloads:
        for line in state.describe():
            out.print(line, markup=False, highlight=False, soft_wrap=True)
    if not feeds:
        out.print("no feed health recorded yet (is `rasd connectors run` running?)")
        return
    table = Table("feed", "status", "http", "seen", "new", "total", "ms", "last success",
                  "last error", "failures", "next poll")  # fmt: skip
    colours = {"ok": "green", "not-modified": "green", "error": "red", "pending": "yellow"}
    for h in feeds:
        error = f"{h.error_reason}: {h.error_detail or ''}"[:60] if h.error_reason else "-"
        table.add_row(
            h.name,
            f"[{colours[h.status]}]{h.status}[/]",
            str(h.http_status or "-"),
            str(h.items_seen),
            str(h.items_new),
            str(h.items_total),
            str(h.latency_ms if h.latency_ms is not None else "-"),
            _when(h.last_success),
            escape(f"{_when(h.last_error)} {error}") if h.last_error else "-",
            str(h.consecutive_failures),
            _when(h.next_poll),
        )
    out.print(table)


def ingest(
    target: str = typer.Argument(..., help="Feed document, folder of them, JSONL, or feed URL."),
) -> None:
    """Ingest articles once into the articles topic (same dedup as the connectors)."""
    from rich.progress import Progress

    from rasd.connectors.ingest import ingest as run_ingest
    from rasd.connectors.ingest import sources
    from rasd.topics import ensure_topics

    settings = _settings()
    try:
        targets = sources(target)
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    ensure_topics(settings)
    with Progress(console=err) as progress:
        task = progress.add_task("ingesting", total=len(targets))
        done: set[str] = set()
        counts = {"seen": 0, "new": 0}

        def advance(source: str, seen: int, new: int) -> None:
            counts["seen"] += seen
            counts["new"] += new
            progress.update(
                task,
                description=f"{counts['new']} new of {counts['seen']}",
                advance=0 if source in done else 1,
            )
            done.add(source)

        report = asyncio.run(run_ingest(settings, targets, progress=advance))
    for error in report.errors:
        err.print(f"[red]error:[/red] {escape(error)}", highlight=False)
    out.print(f"{report.new} new articles of {report.seen} read from {len(targets)} source(s)")
    if report.errors:
        raise typer.Exit(1)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"
