"""The rule-state table's layout: one entry per story revision and a head per rule."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rasd.streams.state import SEPARATOR, StateStore, story_key
from rasd.streams.stories import RuleState, advance
from tests.unit.streams.test_streams_stories import (
    BASRA,
    KIRKUK_AR,
    KIRKUK_AR_2,
    LIMITS,
    Esc,
    R,
    candidate,
)

RULE = R(escalate=Esc(window=timedelta(hours=1), threshold=2))
# Two stories, one of which another report joins, then a report hours later: the others expire.
STREAM = [
    candidate("a1", KIRKUK_AR),
    candidate("c1", BASRA, 5),
    candidate("b1", KIRKUK_AR_2, 10, outlet="bbc"),  # joins a1: its revision changes
    candidate("d1", BASRA, 15, outlet="bbc"),  # joins c1
    candidate("e1", KIRKUK_AR, 7 * 60),
]


class Recording(dict):
    """A table that records its writes in order (None for a delete)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.log: list[tuple[str, bytes | None]] = []

    def __setitem__(self, key, value):
        self.log.append((key, value))
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.log.append((key, None))
        super().__delitem__(key)


def states_of_the_stream():
    state, states = RuleState(rule_id="withdrawal"), []
    for c in STREAM:
        state, _ = advance(state.model_copy(deep=True), c, RULE, LIMITS)
        states.append(state)
    return states


def dumped(state: RuleState) -> dict:
    return json.loads(state.model_dump_json())


def test_each_write_sends_only_the_stories_that_changed_and_deletes_what_is_gone():
    table = Recording()
    store = StateStore(table)
    story_keys_written = []
    for state in states_of_the_stream():
        table.log.clear()
        store.put("withdrawal", state)
        story_keys_written.append(
            [(k.split(SEPARATOR)[1:], v is not None) for k, v in table.log if k != "withdrawal"]
        )
        # A fresh store reads the same state back from the table alone.
        assert dumped(StateStore(table).get("withdrawal")) == dumped(state)
    assert story_keys_written == [
        [(["a1", "0"], True)],
        [(["c1", "0"], True)],
        [(["a1", "1"], True), (["a1", "0"], False)],
        [(["c1", "1"], True), (["c1", "0"], False)],
        # a1 and c1 expired: e1 is written, the others deleted after the head.
        [(["e1", "0"], True), (["a1", "1"], False), (["c1", "1"], False)],
    ]
    assert sorted(table) == ["withdrawal", story_key("withdrawal", "e1", 0)]


def test_a_write_cut_short_anywhere_recovers_the_old_or_the_new_state_never_a_mix():
    states = states_of_the_stream()
    before, after = states[2], states[4]  # the last write both adds and deletes stories
    table = Recording()
    StateStore(table).put("withdrawal", before)
    snapshot = dict(table)
    writes = Recording(snapshot)
    StateStore(writes).put("withdrawal", after)
    for cut in range(len(writes.log) + 1):
        crashed = dict(snapshot)
        for key, value in writes.log[:cut]:
            if value is None:
                crashed.pop(key, None)
            else:
                crashed[key] = value
        recovered = dumped(StateStore(crashed).get("withdrawal"))
        assert recovered in (dumped(before), dumped(after)), cut


def test_a_state_written_in_the_old_layout_is_read_and_rewritten_in_the_new_one():
    state = states_of_the_stream()[3]
    table = Recording({"withdrawal": state.model_dump_json().encode()})
    store = StateStore(table)
    assert dumped(store.get("withdrawal")) == dumped(state)
    store.put("withdrawal", store.get("withdrawal"))
    head = json.loads(table["withdrawal"])
    assert "stories" not in head and head["refs"] == [["a1", 1], ["c1", 1]]
    assert dumped(StateStore(table).get("withdrawal")) == dumped(state)


def test_the_kept_object_is_used_only_while_the_table_holds_its_head():
    table = Recording()
    store = StateStore(table)
    first = states_of_the_stream()[0]
    store.put("withdrawal", first)
    assert store.get("withdrawal") is first
    # Another worker wrote the rule meanwhile (a rebalance, a recovery): read afresh.
    other = states_of_the_stream()[1]
    StateStore(table).put("withdrawal", other)
    assert dumped(store.get("withdrawal")) == dumped(other)


@pytest.mark.parametrize("rule_id", ["withdrawal", "rocket-attack"])
def test_an_unknown_rule_starts_empty(rule_id):
    assert StateStore(Recording()).get(rule_id) == RuleState(rule_id=rule_id)
