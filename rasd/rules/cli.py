"""`rasd rules check|test|schema`: validate rule files and try them offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rasd.cliutil import settings

rules_app = typer.Typer(no_args_is_help=True, help="Rule files: check, test, schema.")


def _rules_dir(given: Path | None) -> Path:
    """The directory given on the command line, else RASD_RULES_DIR."""
    if given is not None:
        return given

    return settings().rules_dir


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")


def _receiver_names(given: Path | None) -> tuple[Path, list[str] | None, list[str]]:
    """The receivers file, the names to check ``notify:`` against (None: not checked) and the
    file's errors. A missing default file is only a note: rules can be checked alone."""
    from rasd.notify.names import receiver_names
    from rasd.yamlerrors import ConfigInvalid

    if given is None:
        path = settings().receivers_file
        if not path.exists():
            typer.echo(f"note: {path} not found; notify: names not checked (--receivers)", err=True)
            return path, None, []
    else:
        path = given
    try:
        return path, receiver_names(path), []
    except ConfigInvalid as exc:
        return path, None, [str(e) for e in exc.errors]


@rules_app.command("check")
def check(
    directory: Annotated[
        Path | None, typer.Argument(help="Directory of rule files [default: RASD_RULES_DIR].")
    ] = None,
    receivers: Annotated[
        Path | None,
        typer.Option(
            "--receivers", help="Receivers file notify: names must be in [RASD_RECEIVERS_FILE]."
        ),
    ] = None,
) -> None:
    """Validate every rule file; print each error as file:line:column: message.

    Every receiver a rule names in ``notify:`` must be defined in the receivers file.
    """
    from rasd.notify.names import unknown_receivers
    from rasd.rules.loader import load_rules

    directory = _rules_dir(directory)
    result = load_rules(directory)
    path, names, receiver_errors = _receiver_names(receivers)
    errors = [str(e) for e in result.errors] + receiver_errors
    if names is not None:
        errors += [str(e) for e in unknown_receivers(result.rules, names)]
    for error in errors:
        typer.echo(error, err=True)
    if errors:
        typer.echo(f"{len(errors)} error(s); {len(result.rules)} rule(s) parsed", err=True)
        raise typer.Exit(1)
    checked = f"; notify: receivers found in {path}" if names is not None else ""
    typer.echo(f"{len(result.rules)} rule(s) valid in {directory}{checked}")


@rules_app.command("test")
def test(
    input_file: Annotated[
        Path, typer.Option("--input", help="JSONL articles or an RSS/Atom file.")
    ],
    rules_dir: Annotated[
        Path | None, typer.Option("--rules", help="Directory of rule files [RASD_RULES_DIR].")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per match on stdout.")
    ] = False,
) -> None:
    """Run the rules over articles from a file and print what matched."""
    import json

    from rasd.rules.loader import load_rules
    from rasd.rules.matcher import Matcher
    from rasd.rules.testinput import InputError, read_articles
    from rasd.startup import freeze_loaded

    rules_dir = _rules_dir(rules_dir)
    result = load_rules(rules_dir)
    for error in result.errors:
        typer.echo(str(error), err=True)
    if not result.rules:
        typer.echo(f"no valid rules in {rules_dir}", err=True)
        raise typer.Exit(1)
    matcher = Matcher(result.rules)
    try:
        articles = read_articles(input_file, on_error=lambda msg: typer.echo(msg, err=True))
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    freeze_loaded()  # rules, gazetteer and articles live as long as the command
    count = matched = 0
    for article in articles:
        count += 1
        matches = matcher.match(article)
        matched += bool(matches)
        for match in matches:
            if as_json:
                record = {
                    "article_id": match.article_id,
                    "rule": match.rule_id,
                    "tags": list(match.tags),
                    "severity": match.severity.value,
                    "terms": [t.model_dump() for t in match.terms],
                    "places": list(match.places),
                }
                typer.echo(json.dumps(record, ensure_ascii=False))
            else:
                terms = ", ".join(dict.fromkeys(t.text for t in match.terms))
                places = ", ".join(match.places) or "-"
                typer.echo(
                    f"{match.rule_id} [{match.severity.value}] {article.id}: {article.title}\n"
                    f"    terms: {terms}\n    places: {places}"
                )
    if not count:
        typer.echo(f"error: no article could be read from {input_file}", err=True)
        raise typer.Exit(2)
    if not as_json:
        typer.echo(f"{matched} of {count} article(s) matched", err=True)


@rules_app.command("eval")
def evaluate(
    input_file: Annotated[
        Path, typer.Option("--input", help="JSONL articles or an RSS/Atom file.")
    ],
    labels_file: Annotated[
        Path, typer.Option("--labels", help="JSONL labels: id, labels, status, note.")
    ],
    rules_dir: Annotated[
        Path | None, typer.Option("--rules", help="Directory of rule files [RASD_RULES_DIR].")
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only this tag (repeatable) [default: labelled tags]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole report as JSON.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Show at most this many misses/false alarms.")
    ] = None,
) -> None:
    """Precision, recall and F1 per tag and language on labelled articles; misses and false
    alarms with the rule that fired or nearly fired."""
    import json

    from rasd.rules.evaluation import LabelError, evaluate, format_report, read_labels
    from rasd.rules.loader import load_rules
    from rasd.rules.matcher import Matcher
    from rasd.rules.testinput import InputError, read_articles
    from rasd.startup import freeze_loaded

    def warn(message: str) -> None:
        typer.echo(message, err=True)

    rules_dir = _rules_dir(rules_dir)
    result = load_rules(rules_dir)
    for error in result.errors:
        warn(str(error))
    if not result.rules:
        warn(f"no valid rules in {rules_dir}")
        raise typer.Exit(1)
    try:
        labels = read_labels(labels_file, on_error=warn)
        articles = list(read_articles(input_file, on_error=warn))
    except (InputError, LabelError) as exc:
        warn(f"error: {exc}")
        raise typer.Exit(2) from None
    if not articles:
        warn(f"error: no article could be read from {input_file}")
        raise typer.Exit(2)
    if not labels:
        warn(f"error: no label could be read from {labels_file}")
        raise typer.Exit(2)
    matcher = Matcher(result.rules)
    freeze_loaded()  # rules, gazetteer and articles live as long as the command
    report = evaluate(articles, labels, matcher, tags or None)
    if report.articles == report.unlabelled:
        warn(f"error: no article of {input_file} has a label in {labels_file} (ids differ?)")
        raise typer.Exit(2)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        typer.echo(format_report(report, limit=limit))


@rules_app.command("schema")
def schema() -> None:
    """Print the JSON schema of rule files (rules/schema.json is this output)."""
    import json

    from rasd.rules.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@rules_app.command("backtest")
def backtest_command(
    rules_path: Annotated[
        Path, typer.Argument(help="A rule file (a draft) or a directory of rule files.")
    ],
    since: Annotated[
        str, typer.Option("--since", help="How far back: 90m, 12h, 7d (the topic's retention).")
    ] = "7d",
    labels_file: Annotated[
        Path | None, typer.Option("--labels", help="JSONL labels: add precision and recall.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False,
) -> None:
    """Run rules over the retained articles topic (every partition, no consumer group): what
    they would have matched per day and, with labels, the `rules eval` report."""
    import json
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from rasd.durations import parse_duration
    from rasd.rules.backtest import run_backtest, since_from
    from rasd.rules.evaluation import LabelError, format_report, read_labels
    from rasd.rules.loader import load_rules, parse_rules
    from rasd.startup import freeze_loaded, keep_full_collections_short

    def warn(message: str) -> None:
        typer.echo(message, err=True)

    try:
        window = parse_duration(since)
    except ValueError as exc:
        warn(f"error: --since: {exc}")
        raise typer.Exit(2) from None
    if rules_path.is_dir():
        result = load_rules(rules_path)
    else:
        try:
            result = parse_rules(rules_path.read_text(encoding="utf-8"), str(rules_path))
        except OSError as exc:
            warn(f"error: cannot read {rules_path}: {exc}")
            raise typer.Exit(2) from None
    for error in result.errors:
        warn(str(error))
    if not result.rules:
        warn(f"no valid rules in {rules_path}")
        raise typer.Exit(1)
    labels = None
    if labels_file is not None:
        try:
            labels = read_labels(labels_file, on_error=warn)
        except LabelError as exc:
            warn(f"error: {exc}")
            raise typer.Exit(2) from None

    start = since_from(window)
    freeze_loaded()  # rules and gazetteer live as long as the command
    keep_full_collections_short()  # the analyser's caches grow with every unseen article
    began = time.perf_counter()
    # Drawn on a terminal only and wiped at the end, so piped or --json output stays clean.
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=as_json,
        console=None,
    ) as progress:
        task = progress.add_task("articles", total=None)
        try:
            found = run_backtest(
                settings(),
                result.rules,
                start,
                labels,
                on_span=lambda span: progress.update(task, total=span.total),
                on_progress=lambda n: progress.update(task, completed=n),
            )
        except LookupError as exc:
            warn(f"error: {exc}")
            raise typer.Exit(2) from None
    elapsed = time.perf_counter() - began
    if as_json:
        typer.echo(
            json.dumps(
                {**found.as_dict(), "seconds": round(elapsed, 3)}, ensure_ascii=False, indent=1
            )
        )
        return
    rate = found.articles / elapsed if elapsed > 0 else 0.0
    typer.echo(
        f"{found.articles} article(s) since {start:%Y-%m-%d %H:%M} UTC, "
        f"{found.matched_articles} matched ({elapsed:.1f} s, {rate:,.0f} articles/s)"
    )
    rules = sorted({r for counts in found.per_day.values() for r in counts})
    if rules:
        typer.echo("\nday         " + " ".join(f"{r[:18]:>18}" for r in rules))
        for day, counts in sorted(found.per_day.items()):
            typer.echo(f"{day}  " + " ".join(f"{counts.get(r, 0):>18}" for r in rules))
        for rule in rules:
            typer.echo(f"\n{rule}, for example:")
            for article_id, title in found.examples[rule]:
                typer.echo(f"  - {article_id}: {' '.join(title.split())[:120]}")
    if found.report is not None:
        typer.echo("\n" + format_report(found.report, limit=20))


feedback_app = typer.Typer(no_args_is_help=True, help="Analysts' feedback from the console.")
rules_app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def export_feedback(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Labels JSONL to write (`rules eval --labels`).")
    ],
    days: Annotated[int, typer.Option("--days", min=1, help="Feedback of the last N days.")] = 90,
    articles: Annotated[
        Path | None,
        typer.Option(
            "--articles",
            help="Also write the labelled articles still on the articles topic (among its "
            "newest --scan records) as JSONL, for `rules eval --input`.",
        ),
    ] = None,
    scan: Annotated[int, typer.Option("--scan", min=1)] = 5000,
) -> None:
    """Write the console's feedback as labels: per article, the classes (rule tags in upper
    case) analysts said it belongs to; a false alarm judges it without its rule's classes."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from rasd.cliutil import settings
    from rasd.connections import async_redis_client
    from rasd.console.feedback import FeedbackStore, labels, write_labels

    s = settings()

    async def read():
        client = async_redis_client(s)
        try:
            return await FeedbackStore(s, client).since(datetime.now(UTC) - timedelta(days=days))
        finally:
            await client.aclose()

    rows = labels(asyncio.run(read()))
    output.write_text(write_labels(rows), encoding="utf-8")
    typer.echo(f"{len(rows)} labelled articles written to {output}")
    if articles is not None:
        from rasd.console.kafka_view import last_articles

        wanted = {row["id"] for row in rows}
        found = [a for a in last_articles(s, scan) if a.id in wanted]
        articles.write_text("".join(a.model_dump_json() + "\n" for a in found), encoding="utf-8")
        typer.echo(f"{len(found)} of them found on the articles topic, written to {articles}")
