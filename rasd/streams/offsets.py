"""Which input records the agents have finished, per partition: the bookkeeping behind commits.

A partition's *position* is the first offset not yet finished: the offset to commit, from which
a worker taking the partition over starts reading. It starts at the committed offset found when
the partition is assigned and moves only over offsets the agents reported finished, one by one.
Our input topics are neither compacted nor written in transactions, so their offsets have no
holes: an offset missing between the position and finished offsets above it is a record that
was never handed to the agent, and the position waits for it instead of jumping over it.
:mod:`rasd.streams.transport` commits these positions and reads the missing records again.

>>> offsets = ProcessedOffsets()
>>> offsets.reset("articles-0", 25)
>>> for offset in (26, 27):
...     offsets.finished("articles-0", offset)
>>> offsets.advance("articles-0") is None      # 25 was never finished: nothing to commit
True
>>> offsets.skipped(now=0.0), offsets.skipped(now=1.0)   # seen twice in a row: 25 was skipped
({}, {'articles-0': 25})
>>> offsets.skipped(now=2.0)                   # read again from 25: give the re-read time
{}
>>> offsets.finished("articles-0", 25)
>>> offsets.advance("articles-0")
28
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

TP = TypeVar("TP", bound=Hashable)


@dataclass
class _Partition:
    # None until the assignment's committed offset is known.
    position: int | None = None
    finished: set[int] = field(default_factory=set)
    # The position at the last check when it was behind finished offsets.
    behind: int | None = None
    # After a skip was reported: not again before `quiet_until` (the re-read record may wait in
    # the agent's queue behind others), and the wait doubles until the position moves.
    quiet_until: float = 0.0
    wait: float = 0.0
    # Since when the record at the position was fetched and no record of it was with the agent.
    idle_since: float | None = None
    # The agent was handed a record past the next one it expected, and set it aside (ahead()).
    ahead: bool = False


class ProcessedOffsets(Generic[TP]):
    """Positions of the partitions one consumer owns (not thread-safe: one event loop)."""

    def __init__(
        self, reread_wait: float = 5.0, max_reread_wait: float = 60.0, idle_wait: float = 10.0
    ) -> None:
        self._partitions: dict[TP, _Partition] = {}
        self._reread_wait = reread_wait
        self._max_reread_wait = max_reread_wait
        self._idle_wait = idle_wait

    def reset(self, tp: TP, position: int) -> None:
        """The partition is read from ``position`` on (its committed offset, after a seek)."""
        part = self._partitions.setdefault(tp, _Partition())
        part.position = position
        part.finished = {offset for offset in part.finished if offset >= position}
        part.behind = part.idle_since = None
        part.quiet_until = part.wait = 0.0
        part.ahead = False

    def expected(self, tp: TP) -> int | None:
        """The next offset the agent should be handed: the position, past the finished offsets
        that continue it (None while the partition's committed offset is not known)."""
        part = self._partitions.get(tp)
        if part is None or part.position is None:
            return None
        offset = part.position
        while offset in part.finished:
            offset += 1
        return offset

    def ahead(self, tp: TP) -> None:
        """The agent was handed a record past :meth:`expected` and left it: the one expected
        never reached it. Reported by :meth:`skipped` as a position behind finished offsets."""
        part = self._partitions.get(tp)
        if part is not None and part.position is not None:
            part.ahead = True

    def finished(self, tp: TP, offset: int) -> None:
        """The agent is done with the record at ``offset`` (its outputs are sent)."""
        part = self._partitions.setdefault(tp, _Partition())
        if part.position is None or offset >= part.position:
            part.finished.add(offset)

    def advance(self, tp: TP) -> int | None:
        """Move over the finished offsets that continue the position; the new one, else None."""
        part = self._partitions.get(tp)
        if part is None or part.position is None:
            return None
        start = part.position
        while part.position in part.finished:
            part.finished.remove(part.position)
            part.position += 1
        if part.position == start:
            return None
        part.quiet_until = part.wait = 0.0
        part.idle_since = None
        part.ahead = False
        return part.position

    def position(self, tp: TP) -> int | None:
        part = self._partitions.get(tp)
        return None if part is None else part.position

    def pending(self) -> Iterator[TP]:
        """Partitions with finished offsets not yet covered by their position."""
        return (tp for tp, part in self._partitions.items() if part.finished)

    def skipped(
        self,
        now: float,
        fetched: Mapping[TP, int | None] | None = None,
        busy: Collection[TP] = (),
    ) -> dict[TP, int]:
        """Partitions to read again from their position: it stayed behind finished offsets.

        One agent takes a partition's records in order, so finished offsets above an
        unfinished position mean the record at the position never reached it. Seeing it at two
        checks in a row leaves out the moment after a seek when a record fetched before the
        seek finishes ahead of the re-read ones. Once reported, a partition is reported again
        only after a wait (doubling, up to ``max_reread_wait``) while its position does not move.

        A skipped record with nothing finished after it (the partition's last one) shows
        otherwise: ``fetched`` (the next offset the consumer will fetch, per partition) is past
        the position, no record of the partition is with the agent (``busy``), and that lasted
        ``idle_wait``.
        """
        found: dict[TP, int] = {}
        for tp, part in self._partitions.items():
            if part.position is None or part.position in part.finished:
                part.behind = part.idle_since = None
                continue
            due = False
            if part.finished or part.ahead:
                due = part.behind == part.position
                part.behind = part.position
            else:
                part.behind = None
            next_fetch = (fetched or {}).get(tp)
            if next_fetch is not None and next_fetch > part.position and tp not in busy:
                part.idle_since = now if part.idle_since is None else part.idle_since
                due = due or now - part.idle_since >= self._idle_wait
            else:
                part.idle_since = None
            if due and now >= part.quiet_until:
                found[tp] = part.position
                part.wait = min(max(part.wait * 2, self._reread_wait), self._max_reread_wait)
                part.quiet_until = now + part.wait
        return found

    def partitions(self) -> list[TP]:
        return list(self._partitions)

    def forget(self, tps: Iterable[TP]) -> None:
        """The partitions were revoked: the next owner starts from what was committed."""
        for tp in tps:
            self._partitions.pop(tp, None)
