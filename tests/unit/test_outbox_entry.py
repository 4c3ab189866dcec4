"""The outbox entry as every reader sees it (rasd.outbox owns the format)."""

from __future__ import annotations

import pytest

from rasd.models import Alert, Severity
from rasd.outbox import UnreadableEntry, is_newer, parse_entry

ALERT = Alert(key="story:r:1", kind="match", severity=Severity.high, rule="r", title="t")


def test_an_entry_reads_its_id_revision_and_alert():
    fields = {"key": ALERT.key, "revision": "3", "alert": ALERT.model_dump_json()}
    entry = parse_entry("5-1", fields)
    assert (entry.id, entry.revision, entry.alert) == ("5-1", 3, ALERT)


def test_an_entry_without_a_revision_is_revision_zero():
    entry = parse_entry("1-0", {"alert": ALERT.model_dump_json()})
    assert entry.revision == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"key": "k"}, "no 'alert' field"),
        ({"alert": ALERT.model_dump_json(), "revision": "-1"}, "not a whole number"),
        ({"alert": ALERT.model_dump_json(), "revision": "one"}, "not a whole number"),
        ({"alert": "{}"}, "ValidationError"),
    ],
)
def test_an_unreadable_entry_keeps_its_fields_and_says_why(fields, reason):
    with pytest.raises(UnreadableEntry, match=reason) as caught:
        parse_entry("9-0", dict(fields))
    assert caught.value.entry_id == "9-0"
    assert caught.value.fields == fields


def test_only_a_greater_revision_is_newer():
    assert is_newer(0, than=None)
    assert is_newer(2, than=1)
    assert not is_newer(1, than=1)
    assert not is_newer(0, than=1)
