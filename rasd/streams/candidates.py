"""The records of the story candidates topic: the match stage writes them, the stories agent reads.

Key: the rule id (a rule's candidates share a partition, so one worker groups them in order).
Value: a JSON array of :class:`~rasd.streams.stories.Candidate` objects, the rule's candidates
of one match-stage batch in the order of the batch's articles; a rule whose candidates of a
batch exceed :data:`RECORD_BYTES` gets several records, in order, each under it. Workers before
issue 15's ninth round wrote one Candidate object per record, and such records may still be in
the topic after an upgrade: :func:`read` takes both.

>>> from rasd.streams.stories import Candidate
>>> one = b'{"match":{"article_id":"a","rule_id":"r","rule_version":"1","severity":"low"},' \\
...     b'"article":{"article_id":"a","outlet":"o","title":"t"},"seen_at":"2026-01-01T00:00:00Z"}'
>>> [c.article.article_id for c in read(one)], len(read(b"[" + one + b"," + one + b"]"))
(['a'], 2)

Why a record per rule and batch: every record costs faust's per-record path (fetcher, conductor,
channel queue, event, ack, commit guard) about 160 us of CPU whatever it holds, and a stage
batch of a backlog has tens of candidates of a few rules (ARCHITECTURE.md, Streams, ninth round).
A record is one event for the agent: it is finished, and its offset committed, only once all its
candidates are grouped and their outputs delivered, so a replay repeats whole records.
"""

from __future__ import annotations

from collections.abc import Iterable

from rasd.codec import arrays, decoder, list_decoder
from rasd.streams.stories import Candidate
from rasd.streams.transport import PARTITION_FETCH_BYTES

# A record's largest value (unless one candidate alone is larger): far under Kafka's message
# maximum (about 1 MB for the broker and faust's producer), and the size of one partition's
# fetch for faust's consumer, so a record never makes a fetch larger than a fetch of before.
RECORD_BYTES = PARTITION_FETCH_BYTES

_one = decoder(Candidate)
_many = list_decoder(Candidate)


def records(encoded: Iterable[bytes], max_bytes: int = RECORD_BYTES) -> list[bytes]:
    """The values of one rule's records for its ``encoded`` candidates (``rasd.codec.encode``)."""
    return arrays(encoded, max_bytes)


def read(value: bytes) -> list[Candidate]:
    """The candidates of one record, in their order: an array, or one Candidate of before."""
    return _many(value) if value[:1] == b"[" else [_one(value)]


__all__ = ["RECORD_BYTES", "read", "records"]
