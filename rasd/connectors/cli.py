"""`rasd connectors run|status|check` and `rasd ingest`."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rasd.cliutil import settings

connectors_app = typer.Typer(no_args_is_help=True, help="RSS/Atom feeds into Kafka.")
err = Console(stderr=True)
out = Console()

FeedsOption = typer.Option(None, "--feeds", help="Feeds file (default: settings feeds_file).")


def register(app: typer.Typer) -> None:
    app.add_typer(connectors_app, name="connectors")
    app.command("ingest")(ingest)


def _settings():

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
    metrics_host: str = typer.Option(
        "127.0.0.1",
        envvar="RASD_CONNECTORS_METRICS_HOST",
        help="Address the metrics listen on (0.0.0.0 for every interface).",
    ),
    interval: float = typer.Option(None, help="Override every feed's poll interval (seconds)."),
    lease_ttl: float = typer.Option(None, help="Override the feed lease TTL (seconds)."),
) -> None:
    """Poll the feeds into the articles topic until SIGTERM/SIGINT (then flush and exit).

    The feeds file is watched: a new valid version is switched to (also on SIGHUP); an
    invalid one is refused and reported, and the last good version keeps polling."""
    from kafka.errors import KafkaError
    from redis.exceptions import RedisError

    from rasd.configwatch import ConfigWatcher, ReloadStates
    from rasd.connections import async_redis_client
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
        from rasd.connectors.metrics import serve

        try:
            serve(metrics_port, metrics_host)
        except OSError as exc:
            err.print(
                f"[red]error:[/red] metrics on {escape(metrics_host)}:{metrics_port}: "
                f"{escape(str(exc))} "
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
        client = async_redis_client(settings)
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
def status(
    as_json: bool = typer.Option(False, "--json", help="Every feed's health as a JSON list."),
) -> None:
    """Every feed's health, as the connectors last recorded it (fits 80 columns)."""
    import json

    from rich import box

    from rasd.configwatch import ReloadStates
    from rasd.connections import redis_client
    from rasd.connectors.health import FeedHealthStore

    settings = _settings()
    client = redis_client(settings)
    try:
        feeds = FeedHealthStore(settings, client).all()
        reloads = ReloadStates(settings).read(client, "feeds")
    finally:
        client.close()
    if as_json:
        typer.echo(json.dumps([h.model_dump(mode="json") for h in feeds], ensure_ascii=False))
        return
    for state in reloads:
        for line in state.describe():
            out.print(line, markup=False, highlight=False, soft_wrap=True)
    if not feeds:
        out.print("no feed health recorded yet (is `rasd connectors run` running?)")
        return
    # Widths add up to 80 columns with the padding; longer values end in an ellipsis (the
    # whole record is in --json).
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, width in (("feed", 18), ("status", 12), ("http", 4), ("new", 5),
                        ("ok ago", 6), ("next", 5), ("problem", 16)):  # fmt: skip
        table.add_column(name, max_width=width, no_wrap=True, overflow="ellipsis")
    colours = {
        "ok": "green",
        "not-modified": "green",
        "degraded": "yellow",
        "error": "red",
        "pending": "yellow",
    }
    now = datetime.now(UTC)
    for h in feeds:
        error = "-"
        if h.error_reason:
            failures = f" ×{h.consecutive_failures}" if h.consecutive_failures > 1 else ""
            error = f"{h.error_reason}{failures}"
        elif h.warnings:
            error = h.warnings  # what made it "degraded": a guessed encoding, repairs
        table.add_row(
            escape(h.name),
            f"[{colours[h.status]}]{h.status}[/]",
            str(h.http_status or "-"),
            str(h.items_new),
            _age(now - h.last_success) if h.last_success else "-",
            _age(h.next_poll - now) if h.next_poll else "-",
            escape(error),
        )
    out.print(table, width=80)


def _age(delta: timedelta) -> str:
    """``42s``, ``5m``, ``3h``, ``2d`` (a time in the past reads as 0s)."""
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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
    # The feeds file's poller settings (size cap, timeouts) apply to ingest too.
    poller = _load(None).poller if settings.feeds_file.exists() else None
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

        report = asyncio.run(run_ingest(settings, targets, poller, progress=advance))
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    for error in report.errors:
        err.print(f"[red]error:[/red] {escape(error)}", highlight=False)
    out.print(f"{report.new} new articles of {report.seen} read from {len(targets)} source(s)")
    if report.errors:
        raise typer.Exit(1)
