"""The commit bookkeeping: positions move only over finished offsets; skipped records show."""

from __future__ import annotations

from rasd.streams.offsets import ProcessedOffsets

TP = ("articles", 1)


def test_position_moves_over_consecutive_finished_offsets_only():
    offsets = ProcessedOffsets()
    offsets.reset(TP, 10)
    for offset in (10, 11, 13):
        offsets.finished(TP, offset)
    assert offsets.advance(TP) == 12
    assert offsets.advance(TP) is None  # 12 is not finished: 13 waits
    offsets.finished(TP, 12)
    assert offsets.advance(TP) == 14


def test_first_offset_after_the_committed_one_is_not_stepped_over():
    # faust's check (min(acked) - committed > 1) commits 26.. over an unfinished 25.
    offsets = ProcessedOffsets()
    offsets.reset(TP, 25)
    for offset in range(26, 36):
        offsets.finished(TP, offset)
    assert offsets.advance(TP) is None
    assert offsets.position(TP) == 25


def test_offsets_finished_before_the_position_is_known_count_from_it():
    offsets = ProcessedOffsets()
    offsets.finished(TP, 13)
    offsets.finished(TP, 14)
    assert offsets.advance(TP) is None  # no commit before the committed offset is known
    offsets.reset(TP, 13)
    assert offsets.advance(TP) == 15


def test_reset_drops_offsets_below_the_new_position_and_replays_are_ignored():
    offsets = ProcessedOffsets()
    offsets.reset(TP, 5)
    offsets.finished(TP, 7)
    offsets.reset(TP, 8)
    offsets.finished(TP, 6)  # a replay of something already committed
    assert list(offsets.pending()) == []
    offsets.finished(TP, 8)
    assert offsets.advance(TP) == 9


def test_a_record_that_never_arrives_is_reported_once_it_stays_behind():
    offsets = ProcessedOffsets(reread_wait=5.0, max_reread_wait=12.0)
    offsets.reset(TP, 25)
    offsets.finished(TP, 27)
    assert offsets.skipped(now=0.0) == {}  # first sight: a re-read record may still be finishing
    assert offsets.skipped(now=1.0) == {TP: 25}
    assert offsets.skipped(now=2.0) == {}  # read again: wait for it
    assert offsets.skipped(now=6.5) == {TP: 25}  # still missing after 5 s
    assert offsets.skipped(now=15.0) == {}  # the wait doubled to 10 s
    assert offsets.skipped(now=16.5) == {TP: 25}
    assert offsets.skipped(now=28.0) == {}  # capped at 12 s
    assert offsets.skipped(now=28.6) == {TP: 25}
    offsets.finished(TP, 25)
    offsets.finished(TP, 26)
    assert offsets.advance(TP) == 28
    assert offsets.skipped(now=29.0) == {}


def test_a_position_that_is_finished_but_not_yet_advanced_is_not_skipped():
    offsets = ProcessedOffsets()
    offsets.reset(TP, 3)
    offsets.finished(TP, 3)
    offsets.finished(TP, 4)
    assert offsets.skipped(now=0.0) == {} and offsets.skipped(now=1.0) == {}


def test_a_new_skip_after_progress_is_reported_without_the_old_wait():
    offsets = ProcessedOffsets(reread_wait=5.0)
    offsets.reset(TP, 0)
    offsets.finished(TP, 1)
    offsets.skipped(now=0.0)
    assert offsets.skipped(now=1.0) == {TP: 0}
    offsets.finished(TP, 0)
    assert offsets.advance(TP) == 2
    offsets.finished(TP, 3)
    offsets.skipped(now=1.5)
    assert offsets.skipped(now=2.0) == {TP: 2}


def test_revoked_partitions_are_forgotten():
    offsets = ProcessedOffsets()
    other = ("articles", 2)
    offsets.reset(TP, 1)
    offsets.reset(other, 1)
    offsets.finished(TP, 1)
    offsets.finished(other, 1)
    offsets.forget([TP])
    assert offsets.position(TP) is None
    assert list(offsets.pending()) == [other]


def test_known_partitions_are_listed():
    offsets = ProcessedOffsets()
    offsets.reset(TP, 0)
    offsets.finished(("articles", 3), 9)
    assert sorted(offsets.partitions()) == [TP, ("articles", 3)]


def test_a_lost_last_record_is_reported_once_it_was_fetched_and_left_idle():
    offsets = ProcessedOffsets(idle_wait=10.0)
    offsets.reset(TP, 2)  # the record at 2 was fetched (next fetch: 3) and never finished
    assert offsets.skipped(0.0, fetched={TP: 3}) == {}
    assert offsets.skipped(5.0, fetched={TP: 3}, busy={TP}) == {}  # the agent holds it
    assert offsets.skipped(6.0, fetched={TP: 3}) == {}  # idle again: the wait restarts
    assert offsets.skipped(15.0, fetched={TP: 3}) == {}
    assert offsets.skipped(16.0, fetched={TP: 3}) == {TP: 2}


def test_a_position_not_fetched_yet_is_not_skipped():
    offsets = ProcessedOffsets(idle_wait=1.0)
    offsets.reset(TP, 2)
    assert offsets.skipped(0.0, fetched={TP: 2}) == {} and offsets.skipped(9.0, {TP: 2}) == {}


def test_expected_is_the_position_past_the_finished_offsets_that_continue_it():
    offsets = ProcessedOffsets()
    assert offsets.expected(TP) is None  # committed offset not known yet: no order to keep
    offsets.reset(TP, 25)
    assert offsets.expected(TP) == 25
    for offset in (25, 26, 28):
        offsets.finished(TP, offset)
    assert offsets.expected(TP) == 27  # 28 finished (a re-read ahead) does not hide 27
    assert offsets.position(TP) == 25  # not committed yet: expected() moves nothing


def test_a_record_left_ahead_of_the_expected_one_is_read_again():
    # The agent was handed 30 while it expected 25, and left it (nothing finished past 25):
    # 25..29 never reached it, so the partition is sought back to 25, as for a finished gap.
    offsets = ProcessedOffsets()
    offsets.reset(TP, 25)
    offsets.ahead(TP)
    assert offsets.skipped(now=0.0) == {}
    assert offsets.skipped(now=1.0) == {TP: 25}
    for offset in range(25, 31):
        offsets.finished(TP, offset)
    assert offsets.advance(TP) == 31
    assert offsets.skipped(now=2.0) == {}
    assert offsets.skipped(now=3.0) == {}  # moved on: no longer ahead
