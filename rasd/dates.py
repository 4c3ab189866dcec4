"""Publication dates as feeds and people write them: RFC 822 (RSS) and ISO 8601 (Atom, JSON).

One grammar for every reader of article files (`rasd ingest`, `rasd rules test|eval`), so a line
copied from a feed (``Mon, 26 Feb 2018 22:48:31 GMT``) reads the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

from pydantic import BeforeValidator


def parse_published(value: Any) -> Any:
    """``"Mon, 26 Feb 2018 22:48:31 GMT"`` or ``"2018-02-26T22:48:31Z"`` -> aware datetime.

    A date without a zone is read as UTC. Values that are not strings go to pydantic as they are.

    >>> parse_published("Mon, 26 Feb 2018 22:48:31 GMT").isoformat()
    '2018-02-26T22:48:31+00:00'
    >>> parse_published("2018-02-26 22:48:31+04:00").isoformat()
    '2018-02-26T22:48:31+04:00'
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        raise ValueError(
            f"{value!r} is not a date; write RFC 822 (Mon, 26 Feb 2018 22:48:31 GMT) "
            "or ISO 8601 (2018-02-26T22:48:31Z)"
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


Published = Annotated[datetime | None, BeforeValidator(parse_published)]
