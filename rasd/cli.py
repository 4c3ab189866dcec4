"""The `rasd` command. Each part of the pipeline adds its commands from `rasd/<part>/cli.py`."""

from __future__ import annotations

import importlib
import json
import sys

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from rasd.cliutil import err, out, settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
dev_app = typer.Typer(no_args_is_help=True, help="The local Kafka and Redis.")
config_app = typer.Typer(no_args_is_help=True, help="Effective settings.")
app.add_typer(dev_app, name="dev")
app.add_typer(config_app, name="config")

# Parts that exist register their commands; a part that is not written yet has no cli module.
PARTS = ("rules", "connectors", "streams", "notify", "console")


def _run_devstack(action) -> None:
    from rasd.devstack.process import DevStackError

    try:
        action()
    except DevStackError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@dev_app.command("up")
def dev_up() -> None:
    """Start Kafka and Redis (unless RASD_KAFKA_BOOTSTRAP / RASD_REDIS_URL are set)."""
    from rasd.devstack.stack import services_up

    _run_devstack(lambda: services_up(settings()))


@dev_app.command("down")
def dev_down() -> None:
    """Stop the Kafka and Redis that `rasd dev up` started."""
    from rasd.devstack.stack import services_down

    _run_devstack(lambda: services_down(settings()))


@dev_app.command("status")
def dev_status() -> None:
    """Which services run where, whether they answer, and how often the local stack restarted
    each. Exit 1 if a service does not answer."""
    from rasd.devstack.stack import processes_status, services_status

    s = settings()
    table = Table("service", "address", "run by", "pid", "state", "restarts")
    statuses = services_status(s)
    notes = []
    for st in statuses:
        table.add_row(
            st.name,
            st.address,
            st.managed,
            str(st.pid or "-"),
            "[green]healthy[/green]" if st.healthy else "[red]unhealthy[/red]",
            str(st.restarts),
        )
    for proc in processes_status(s):
        colour = "green" if proc.state == "running" and not proc.note else "red"
        table.add_row(
            f"rasd {proc.name}",
            "-",
            "local",
            str(proc.pid or "-"),
            f"[{colour}]{proc.state}[/{colour}]",
            str(proc.restarts),
        )
        if proc.note:
            notes.append(f"rasd {proc.name}: {proc.note}")
    # Piped into a file or a test, the table is not squeezed to 80 columns.
    console = out if out.is_terminal else Console(width=200)
    console.print(table)
    for note in notes:
        console.print(note, markup=False, highlight=False, soft_wrap=True)
    if not all(st.healthy for st in statuses):
        raise typer.Exit(1)


@app.command("up")
def up() -> None:
    """Start Kafka, Redis and every rasd process; print the console address."""
    from rasd.devstack.stack import processes_up, services_up

    s = settings()
    _run_devstack(lambda: (services_up(s), processes_up(s)))
    out.print(f"console: http://{s.console_host}:{s.console_port}/")


@app.command("down")
def down() -> None:
    """Stop every rasd process, then Kafka and Redis."""
    from rasd.devstack.stack import processes_down, services_down

    s = settings()
    _run_devstack(lambda: (processes_down(s), services_down(s)))


@config_app.command("show")
def config_show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the effective settings, secrets masked."""
    values = {
        name: ("**********" if isinstance(value, SecretStr) else value)
        for name, value in settings().model_dump().items()
    }
    if as_json:
        out.print_json(json.dumps(values, default=str))
        return
    table = Table("setting", "environment variable", "value")
    for name, value in values.items():
        table.add_row(name, f"RASD_{name.upper()}", str(value))
    out.print(table)


def _register_parts() -> None:
    for part in PARTS:
        module_name = f"rasd.{part}.cli"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(app)


_register_parts()


def main() -> None:
    from rich.markup import escape

    from rasd.connections import KafkaUnreachable

    try:
        app(prog_name="rasd")
    except KafkaUnreachable as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
