"""Records that could not be processed, with the reason, for the ``<ns>.dead-letters`` topic."""

from __future__ import annotations

import json

# A dead letter carries the start of the raw record: enough to find and fix it, not a copy of
# an arbitrarily large payload.
MAX_RAW = 8192


def dead_letter(topic: str, partition: int, offset: int, reason: str, raw: bytes | None) -> bytes:
    """The dead-letter record for one bad input record."""
    text = (raw or b"")[:MAX_RAW].decode("utf-8", errors="replace")
    return json.dumps(
        {"topic": topic, "partition": partition, "offset": offset, "reason": reason, "raw": text},
        ensure_ascii=False,
    ).encode()
