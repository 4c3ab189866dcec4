"""How a backtest with a cap on articles cuts its window: the newest of each partition."""

from __future__ import annotations

from rasd.rules.backtest import newest


def test_a_window_under_the_cap_is_read_whole():
    span = {0: (10, 20), 1: (0, 5)}
    assert newest(span, 15) == span
    assert newest(span, 100) == span


def test_the_cap_keeps_the_newest_records_of_each_partition_in_proportion():
    span = {0: (0, 600), 1: (100, 400), 2: (50, 150)}
    cut = newest(span, 100)
    assert sum(end - start for start, end in cut.values()) == 100
    assert cut == {0: (540, 600), 1: (370, 400), 2: (140, 150)}


def test_small_caps_are_shared_out_exactly():
    span = {0: (0, 2), 1: (0, 1), 2: (0, 2), 3: (0, 1)}
    for cap in range(0, 7):
        cut = newest(span, cap)
        assert sum(end - start for start, end in cut.values()) == cap
        assert all(end == span[p][1] and start >= span[p][0] for p, (start, end) in cut.items())
