"""``rasd notify run|check`` and ``rasd silence add|list|expire``."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import signal
from datetime import datetime
from pathlib import Path

import typer

from rasd.cliutil import err, out, settings

notify_app = typer.Typer(no_args_is_help=True, help="Deliver alerts from the outbox.")
silence_app = typer.Typer(no_args_is_help=True, help="Silence alerts for a while.")

MatchersArgument = typer.Argument(
    ...,
    help="label=value, label!=value, label=~regex, label!~regex (RE2), severity>=high; "
    "labels: rule, severity, kind, tags, places, outlets, story, key, title.",
)
ConfigOption = typer.Option(
    None, "--config", "-c", "--receivers", help="Receivers file [RASD_RECEIVERS_FILE]."
)
RulesOption = typer.Option(
    None, "--rules", help="Rules whose notify: names must exist [RASD_RULES_DIR]."
)


def _rule_names_errors(config, rules_dir: Path | None) -> list[str]:
    """Errors for the ``notify:`` receivers of the rules that the config does not define.

    A notifier may run where the rules directory is not (the worker publishes the rules):
    then nothing is checked, and an alert naming an unknown receiver still ends as a dead
    letter with that reason.
    """
    from rasd.notify.names import unknown_receivers
    from rasd.rules.loader import load_rules

    directory = rules_dir or settings().rules_dir
    if not directory.is_dir():
        if rules_dir is not None:
            return [f"{directory}: not a directory"]
        err.print(f"note: no {directory}; rules' notify: names not checked", markup=False)
        return []
    return [str(e) for e in unknown_receivers(load_rules(directory).rules, config.names)]


def _rule_names_check(rules_dir: Path | None):
    """For each new receivers.yaml version: the rules' ``notify:`` names it lacks (the rules
    are read again, they may have changed too); nothing when the rules are not here."""
    from rasd.notify.names import unknown_receivers
    from rasd.rules.loader import load_rules

    directory = rules_dir or settings().rules_dir

    def check(config):
        if not directory.is_dir():
            return []
        return unknown_receivers(load_rules(directory).rules, config.names)

    return check


def _load(path: Path | None, strict: bool, rules_dir: Path | None = None):
    """Validated config and receivers, or the errors on stderr and exit code 2."""
    from rasd.notify.config import build_receivers, load_config
    from rasd.yamlerrors import ConfigInvalid

    path = path or settings().receivers_file
    try:
        config = load_config(path)
    except ConfigInvalid as exc:
        for error in exc.errors:
            err.print(str(error), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    errors = _rule_names_errors(config, rules_dir)
    if errors:
        for error in errors:
            err.print(error, markup=False, highlight=False, soft_wrap=True)
        err.print(f"define these receivers in {path} or fix the rules", markup=False)
        raise typer.Exit(2)
    _, disabled = build_receivers(config, os.environ)
    if strict and disabled:
        for name, reason in disabled.items():
            err.print(f"receiver {name} disabled: {reason}", markup=False, soft_wrap=True)
        err.print("--strict: every receiver must be usable", markup=False)
        raise typer.Exit(2)
    return config, disabled


@notify_app.command("check")
def check(
    config: Path | None = ConfigOption,
    strict: bool = typer.Option(False),
    rules: Path | None = RulesOption,
) -> None:
    """Validate receivers.yaml and the rules' notify: names; list receivers and whether each
    can send."""

    _print_running(out)
    loaded, disabled = _load(config, strict, rules)
    for receiver in loaded.receivers:
        state = f"disabled ({disabled[receiver.name]})" if receiver.name in disabled else "ok"
        out.print(f"{receiver.name:<20} {receiver.type:<8} {state}", markup=False, soft_wrap=True)


def _print_running(out) -> None:
    """What the running notifiers use, and any version of the file they refused."""
    from redis.exceptions import RedisError

    from rasd.configwatch import ReloadStates
    from rasd.connections import redis_client

    s = settings()
    client = redis_client(s, socket_connect_timeout=2, socket_timeout=2)
    try:
        states = ReloadStates(s).read(client, "receivers")
    except (RedisError, OSError) as exc:
        err.print(f"running notifiers not known (Redis: {exc})", markup=False, soft_wrap=True)
        return
    finally:
        client.close()
    for state in states:
        for line in state.describe():
            out.print(line, markup=False, highlight=False, soft_wrap=True)


@notify_app.command("run")
def run(
    config: Path | None = ConfigOption,
    consumer: str | None = typer.Option(None, help="Consumer name (default host-pid)."),
    strict: bool = typer.Option(
        False, help="Refuse to start if a receiver's secret is missing (else it is disabled)."
    ),
    metrics_port: int = typer.Option(
        0,
        envvar="RASD_NOTIFY_METRICS_PORT",
        help="Prometheus metrics on 127.0.0.1:PORT (0 = off).",
        min=0,
        max=65535,
    ),
    rules: Path | None = RulesOption,
) -> None:
    """Read the outbox and deliver alerts until SIGINT / SIGTERM; rides out Redis outages.

    Refuses to start when a rule names a receiver the receivers file does not define. The
    receivers file is watched: a new valid version is switched to (also on SIGHUP); an
    invalid one is refused and reported, and the last good version keeps delivering."""
    from rasd.configwatch import ConfigWatcher
    from rasd.notify.reload import CurrentNotifierMetrics, receivers_parser, run_reloading

    s = settings()
    _load(config, strict, rules)  # the start-up report: every error, or the disabled receivers
    watcher = ConfigWatcher(
        config or s.receivers_file,
        receivers_parser(strict, check=_rule_names_check(rules)),
        kind="receivers",
        interval=s.config_poll_interval,
    )
    watcher.load()
    logging.basicConfig(level=s.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The running notifier's own metrics (each has its registry) next to the reload metrics.
    metrics = CurrentNotifierMetrics()
    if metrics_port:
        from prometheus_client import REGISTRY, start_http_server

        REGISTRY.register(metrics)
        try:
            start_http_server(metrics_port, addr="127.0.0.1")
        except OSError as exc:
            err.print(f"error: metrics port {metrics_port}: {exc}", markup=False)
            raise typer.Exit(2) from None

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, watcher.request)
        await run_reloading(s, watcher, stop, consumer=consumer, metrics=metrics)

    asyncio.run(main())


async def _with_redis(action):
    from rasd.connections import async_redis_client

    s = settings()
    client = async_redis_client(s)
    try:
        return await action(client, s)
    finally:
        await client.aclose()


@notify_app.command("log")
def delivery_log(
    limit: int = typer.Option(20, "-n", help="How many entries, newest first."),
    alert: str | None = typer.Option(None, help="Only this alert key."),
) -> None:
    """What happened to recent alerts: queued, sent, retried, silenced, dead..."""
    from rich.table import Table

    from rasd.notify.history import DeliveryLog

    entries = asyncio.run(_with_redis(lambda c, s: DeliveryLog(c, s).recent(limit)))
    table = Table("time", "outcome", "receiver", "alerts", "attempt", "error")
    for e in entries:
        if alert is None or alert in e.alerts:
            table.add_row(
                e.at.strftime("%H:%M:%S"),
                e.outcome,
                e.receiver or "-",
                " ".join(e.alerts),
                str(e.attempt or ""),
                e.error or "",
            )
    out.print(table)


@notify_app.command("dead")
def dead_letters(limit: int = typer.Option(20, "-n", help="How many, newest first.")) -> None:
    """Deliveries given up on, with the reason."""
    from rich.table import Table

    from rasd.notify.history import DeadLetters

    letters = asyncio.run(_with_redis(lambda c, s: DeadLetters(c, s).recent(limit)))
    table = Table("id", "time", "receiver", "alerts", "attempts", "reason")
    for d in letters:
        table.add_row(
            d.id or "",
            d.at.strftime("%Y-%m-%d %H:%M:%S"),
            d.receiver or "-",
            " ".join(a.key for a in d.alerts),
            str(d.attempts),
            d.reason,
        )
    out.print(table)


def _parse_time(value: str) -> datetime:
    from datetime import UTC

    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def _with_store(action):
    from rasd.notify.silences import SilenceStore

    return await _with_redis(lambda client, s: action(SilenceStore(client, s)))


@silence_app.command("add")
def silence_add(
    matchers: list[str] = MatchersArgument,
    comment: str = typer.Option(..., "--comment", "-m"),
    duration: str | None = typer.Option(None, "--duration", "-d", help="e.g. 2h (default 1h)."),
    until: str | None = typer.Option(None, help="End time, ISO 8601 (UTC if no zone)."),
    author: str = typer.Option(None, help="Default: the current user."),
) -> None:
    """Silence matching alerts until an end time."""
    from pydantic import ValidationError

    from rasd.durations import parse_duration
    from rasd.models import utcnow
    from rasd.notify.silences import SilenceMatcher

    try:
        parsed = [SilenceMatcher.parse(m) for m in matchers]
        if until and duration:
            raise ValueError("give --duration or --until, not both")
        ends_at = _parse_time(until) if until else utcnow() + parse_duration(duration or "1h")
        silence = asyncio.run(
            _with_store(
                lambda store: store.add(
                    parsed, ends_at=ends_at, comment=comment, author=author or getpass.getuser()
                )
            )
        )
    except (ValueError, ValidationError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    out.print(silence.id)


@silence_app.command("list")
def silence_list(
    show_all: bool = typer.Option(False, "--all", help="Include expired silences."),
) -> None:
    """Active and pending silences (with --all, expired ones too)."""
    from rich.table import Table

    from rasd.models import utcnow

    silences = asyncio.run(_with_store(lambda store: store.all()))
    now = utcnow()
    table = Table("id", "state", "matchers", "ends", "author", "comment")
    for s in silences:
        state = s.state(now)
        if state == "expired" and not show_all:
            continue
        table.add_row(
            s.id,
            state,
            " ".join(str(m) for m in s.matchers),
            s.ends_at.strftime("%Y-%m-%d %H:%M UTC"),
            s.author,
            s.comment,
        )
    out.print(table)


@silence_app.command("expire")
def silence_expire(silence_ids: list[str]) -> None:
    """End silences now."""
    from rasd.notify.silences import SilenceNotFound

    async def expire_all(store):
        return [await store.expire(i) for i in silence_ids]

    try:
        asyncio.run(_with_store(expire_all))
    except SilenceNotFound as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    out.print(f"expired {len(silence_ids)}")


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
    app.add_typer(silence_app, name="silence")
