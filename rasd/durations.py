"""The one duration grammar of rasd: rules, receivers.yaml, feeds.yaml, the CLI and the console.

A duration is one or more parts ``<number><unit>`` (units ``ms``, ``s``, ``m``, ``h``, ``d``,
``w``; spaces between parts allowed), or a plain number of seconds (``90``, ``"90"``).

>>> parse_duration("1h30m")
datetime.timedelta(seconds=5400)
>>> format_duration(parse_duration("90m"))
'1h30m'
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})\s*(ms|s|m|h|d|w)\s*")
# The same grammar for JSON Schema (editors, the console's rule editor).
PATTERN = rf"^\s*(?:{_NUMBER}|(?:{_NUMBER}\s*(?:ms|s|m|h|d|w)\s*)+)\s*$"
ACCEPTED = "a duration such as 500ms, 30s, 5m, 1h30m, 2d, 1w or a number of seconds"


def parse_duration(value: object) -> timedelta:
    """A timedelta from a duration, a number of seconds or a timedelta; ValueError saying
    what is accepted otherwise."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"a duration cannot be negative; expected {ACCEPTED}")
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError(f"expected {ACCEPTED}")
    text = value.strip()
    if re.fullmatch(_NUMBER, text):
        return timedelta(seconds=float(text))
    parts = list(_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts).strip() != text:
        raise ValueError(f"{value!r} is not a duration; expected {ACCEPTED}")
    return timedelta(seconds=sum(float(p.group(1)) * _UNITS[p.group(2)] for p in parts))


def parse_seconds(value: object) -> float:
    """:func:`parse_duration` in seconds, for settings kept as floats."""
    return parse_duration(value).total_seconds()


def format_duration(value: timedelta) -> str:
    """The shortest spelling :func:`parse_duration` reads back (``1h30m``, ``250ms``)."""
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    out, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)


_SCHEMA = WithJsonSchema({"type": "string", "pattern": PATTERN, "examples": ["30m", "1h30m"]})

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    _SCHEMA,
]
"""A pydantic field type: read with :func:`parse_duration`, written as :func:`format_duration`."""
