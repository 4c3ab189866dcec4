"""Notify's records are bounded on the real Redis: the dead-letter stream is capped, each
alert's delivery status expires."""

import pytest

from rasd.keys import RedisKeys
from rasd.models import utcnow
from rasd.notify.history import DeadLetter, attempt
from rasd.notify.ledger import Ledger

pytestmark = pytest.mark.integration


async def test_dead_letters_are_capped_and_statuses_expire(settings, redis_client):
    ledger = Ledger(redis_client, settings, dead_letters=100, status_ttl=3600)
    for n in range(1000):
        pipe = redis_client.pipeline(transaction=True)
        ledger.dead_letter(pipe, DeadLetter(reason=f"refused {n}", at=utcnow()))
        await pipe.execute()
    kept = await redis_client.xlen(RedisKeys(settings).notify_dead)
    # Trimmed in whole stream nodes (100 entries each by default): a few more may stay.
    assert 100 <= kept <= 200
    newest = await redis_client.xrevrange(RedisKeys(settings).notify_dead, count=1)
    assert "refused 999" in newest[0][1]["dead"]

    pipe = redis_client.pipeline(transaction=True)
    ledger.log(pipe, attempt("sent", alerts=("story:r:1",), receiver="desk"))
    await pipe.execute()
    ttl = await redis_client.ttl(RedisKeys(settings).notify_status("story:r:1"))
    assert 3500 < ttl <= 3600
