"""`rasd connectors status` fits an 80-column terminal whatever the feeds are called, and
`--json` gives every field of every feed's health."""

from __future__ import annotations

import json

import pytest

from tests.integration.connectors.conftest import Running, feeds_config
from tests.integration.connectors.test_ingest_and_status import rasd

pytestmark = pytest.mark.integration

LONG = "a-feed-with-a-very-long-name-from-a-regional-outlet"


async def test_status_fits_80_columns_and_json_has_every_field(settings, feed_server):
    config = feeds_config(
        [(LONG, feed_server.url("/status/404")), ("ok-feed", feed_server.url("/feed/empty.xml"))]
    )
    async with Running(settings, config) as connector:
        await connector.poll_once()
    code, out = await rasd(settings, "connectors", "status")  # COLUMNS=200: still 80
    assert code == 0, out
    lines = out.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= 80, out
    [gone] = [line for line in lines if line.startswith("a-feed")]
    assert "error" in gone and "404" in gone and "…" in gone

    code, out = await rasd(settings, "connectors", "status", "--json")
    assert code == 0, out
    feeds = {f["name"]: f for f in json.loads(out)}
    assert set(feeds) == {LONG, "ok-feed"}
    assert (feeds[LONG]["status"], feeds[LONG]["http_status"]) == ("error", 404)
    assert feeds[LONG]["error_reason"] == "http-error"
    assert feeds["ok-feed"]["status"] == "ok" and feeds["ok-feed"]["last_success"]
