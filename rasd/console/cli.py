"""``rasd console``: serve the web console; ``rasd console hash-password``: make a user entry."""

from __future__ import annotations

import typer

from rasd.cliutil import err, settings

console_app = typer.Typer(
    invoke_without_command=True, help="The web console (live alerts, rules, health)."
)


@console_app.callback()
def serve(ctx: typer.Context) -> None:
    """Serve the console on settings.console_host:console_port until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    import logging

    import uvicorn

    from rasd.connections import KafkaUnreachable, check_kafka
    from rasd.console.app import create_app
    from rasd.console.auth import ConsoleConfigError

    s = settings()
    logging.basicConfig(level=s.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        check_kafka(s)
    except KafkaUnreachable as exc:
        # Wrong credentials or CA stay wrong: say so now. A broker that is only down may come
        # back, and the console's other pages work meanwhile.
        if exc.refused:
            raise
        logging.getLogger("rasd.console").warning("%s", exc)
    try:
        app = create_app(s)
    except ConsoleConfigError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    uvicorn.run(
        app,
        host=s.console_host,
        port=s.console_port,
        log_level=s.log_level.lower(),
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )


@console_app.command("hash-password")
def hash_password_command(
    user: str = typer.Argument(..., help="The username the hash is for."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted if omitted."
    ),
) -> None:
    """Print a RASD_CONSOLE_USERS entry for USER (the password is prompted for)."""
    import json

    from rasd.console.passwords import hash_password

    typer.echo(json.dumps({user: hash_password(password)}))


def register(app: typer.Typer) -> None:
    app.add_typer(console_app, name="console")
