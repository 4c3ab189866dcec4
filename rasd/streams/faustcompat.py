"""Topic creation for faust-streaming 0.11.3 on aiokafka >= 0.11.

faust 0.11.3 creates its internal topics (changelogs, the leader topic, our candidates topic)
with hand-built ``MetadataRequest_v1``/``CreateTopicsRequest`` objects that newer aiokafka cannot
send (``'MetadataRequest_v1' object has no attribute 'prepare'``, faust-streaming issue #633).
:func:`install` swaps that one method for aiokafka's admin client, which speaks the current
protocol. Everything else in faust's aiokafka driver is used as shipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

_TOPIC_ALREADY_EXISTS = 36


async def _create_topic_with_admin(
    self,
    owner,
    client,
    topic: str,
    partitions: int,
    replication: int,
    *,
    config: Mapping[str, Any] | None = None,
    timeout: int = 30000,
    retention: int | None = None,
    compacting: bool | None = None,
    deleting: bool | None = None,
    ensure_created: bool = False,
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth, server_list

    configs = {**self._topic_config(retention, compacting, deleting), **(config or {})}
    # The app's credentials come from rasd.connections.faust_broker_settings; faust's own
    # translation turns them into aiokafka's arguments, as for its consumers and producers.
    auth = credentials_to_aiokafka_auth(self.app.conf.broker_credentials, self.app.conf.ssl_context)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=server_list(self.url, self.default_port),
        request_timeout_ms=timeout,
        **auth,
    )
    await admin.start()
    try:
        response = await admin.create_topics(
            [
                NewTopic(
                    topic,
                    partitions,
                    replication,
                    topic_configs={k: str(v) for k, v in configs.items()},
                )
            ],
            timeout_ms=timeout,
        )
        for name, code, *rest in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {name!r}: error {code} {rest}")
        await _until_visible(admin, topic, partitions, timeout / 1000)
    finally:
        await admin.close()
    owner.log.info("Topic %r ready", topic)


async def _until_visible(admin, topic: str, partitions: int, timeout: float) -> None:
    """Wait until the broker's metadata lists the topic with its partitions.

    The consumer subscribes right after the topics are declared; a topic missing from its
    metadata at that moment is left out of the assignment until the next metadata refresh
    (minutes), and the agent reading it would sit idle.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        (described,) = await admin.describe_topics([topic])
        if described["error_code"] == 0 and len(described["partitions"]) >= partitions:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"topic {topic!r} did not appear in the metadata")
        await asyncio.sleep(0.05)


def install() -> None:
    from faust.transport.drivers.aiokafka import Transport

    Transport._really_create_topic = _create_topic_with_admin
