"""`rasd rules check|test|schema`: validate rule files and try them offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

rules_app = typer.Typer(no_args_is_help=True, help="Rule files: check, test, schema.")


def _rules_dir(given: Path | None) -> Path:
    """The directory given on the command line, else RASD_RULES_DIR."""
    if given is not None:
        return given
    from rasd.cli import settings

    return settings().rules_dir


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")


def _receiver_names(given: Path | None) -> tuple[Path, list[str] | None, list[str]]:
    """The receivers file, the names to check ``notify:`` against (None: not checked) and the
    file's errors. A missing default file is only a note: rules can be checked alone."""
    from rasd.notify.names import receiver_names
    from rasd.yamlerrors import ConfigInvalid

    if given is None:
        from rasd.cli import settings

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
    if not as_json:
        typer.echo(f"{matched} of {count} article(s) matched", err=True)


@rules_app.command("schema")
def schema() -> None:
    """Print the JSON schema of rule files (rules/schema.json is this output)."""
    import json

    from rasd.rules.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
