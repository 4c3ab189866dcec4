"""The revision rule has one owner (rasd.outbox): its Python and its Lua text agree, on a real
Redis, and the Lua text is the one notify's ledger runs."""

from __future__ import annotations

import pytest

from rasd.connections import redis_client
from rasd.notify import ledger
from rasd.outbox import IS_NEWER_LUA, is_newer

pytestmark = pytest.mark.integration

# (revision, the one held; None: nothing held yet)
CASES = [(0, None), (3, None), (0, 0), (1, 0), (0, 1), (5, 5), (6, 5), (4, 5), (10, 9), (9, 10)]

# ARGV[1] = revision, ARGV[2] = the one held ('' for none); returns 1 when newer.
_PROBE = (
    IS_NEWER_LUA
    + """
local than = nil
if ARGV[2] ~= '' then than = tonumber(ARGV[2]) end
if is_newer(tonumber(ARGV[1]), than) then return 1 end
return 0
"""
)


def test_the_lua_rule_answers_as_the_python_rule(settings):
    client = redis_client(settings)
    try:
        probe = client.register_script(_PROBE)
        lua = [bool(probe(args=[r, "" if held is None else held])) for r, held in CASES]
    finally:
        client.close()
    assert lua == [is_newer(r, than=held) for r, held in CASES]
    assert True in lua and False in lua  # the cases exercise both answers


def test_the_ledger_applies_the_owned_rule():
    assert ledger._ENQUEUE.startswith(IS_NEWER_LUA)
    assert "is_newer(revision, held)" in ledger._ENQUEUE
