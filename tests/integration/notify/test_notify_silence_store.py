"""SilenceStore on the real Redis: what the notifier, the CLI and the console share."""

from datetime import timedelta

import pytest

from rasd.keys import RedisKeys
from rasd.models import utcnow
from rasd.notify.silences import RETENTION, Silence, SilenceMatcher, SilenceNotFound, SilenceStore

pytestmark = pytest.mark.integration
RULE = [SilenceMatcher.parse("rule=rocket-attack")]


async def test_add_get_active_expire(settings, redis_client):
    store = SilenceStore(redis_client, settings)
    now = utcnow()
    active = await store.add(RULE, ends_at=now + timedelta(hours=1), comment="c", author="a")
    pending = await store.add(
        RULE,
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        comment="later",
        author="a",
    )
    assert await store.get(active.id) == active
    assert [s.id for s in await store.active()] == [active.id]

    ended = await store.expire(pending.id)
    assert ended.state(utcnow()) == "expired" and ended.starts_at == ended.ends_at
    await store.expire(active.id)
    assert await store.active() == []
    assert {s.id for s in await store.all()} == {active.id, pending.id}  # still listed
    with pytest.raises(SilenceNotFound):
        await store.expire("missing")
    with pytest.raises(ValueError, match="must end in the future"):
        await store.add(RULE, ends_at=now - timedelta(minutes=1), comment="c", author="a")


async def test_long_expired_silences_are_dropped(settings, redis_client):
    store = SilenceStore(redis_client, settings)
    old_end = utcnow() - RETENTION - timedelta(days=1)
    old = Silence(
        matchers=tuple(RULE),
        starts_at=old_end - timedelta(hours=1),
        ends_at=old_end,
        comment="old",
        author="a",
    )
    await redis_client.hset(RedisKeys(settings).silences, old.id, old.model_dump_json())
    new = await store.add(RULE, ends_at=utcnow() + timedelta(hours=1), comment="c", author="a")
    assert [s.id for s in await store.all()] == [new.id]
