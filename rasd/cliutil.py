"""What every part's CLI shares: the settings as a command reads them, and the consoles.

Its own module so that ``rasd/cli.py`` can import the parts' CLIs and the parts can use
these without importing ``rasd.cli`` back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from rasd.settings import Settings, get_settings

err = Console(stderr=True)
out = Console()

T = TypeVar("T")


def validated(read: Callable[[], T], prefix: str = "RASD_") -> T:
    """``read()`` (settings from the environment), or a readable error and exit code 2."""
    try:
        return read()
    except ValidationError as exc:
        err.print(f"[red]Invalid settings[/red] (environment variables {prefix}*):")
        for error in exc.errors():
            if error["loc"]:
                name = prefix + "_".join(str(p) for p in error["loc"]).upper()
                err.print(f"  {name}: {error['msg']}")
            else:  # a check across settings names its variables itself
                err.print(f"  {error['msg']}")
        raise typer.Exit(2) from None


def settings() -> Settings:
    """The validated settings, or a readable error and exit code 2."""
    return validated(get_settings)
