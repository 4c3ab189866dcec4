"""The local Kafka's cluster id: never read as an option by the storage tool."""

from __future__ import annotations

import base64
import uuid

from rasd.devstack.kafka import new_cluster_id


def test_no_cluster_id_starts_with_a_dash_and_each_is_a_uuid():
    # With the bare encoding, one id in 64 starts with "-": 5,000 draws meet one all but
    # certainly (1 - (63/64) ** 5000 > 1 - 1e-34).
    ids = [new_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == len(ids)
    for i in ids[:50]:
        assert len(uuid.UUID(bytes=base64.urlsafe_b64decode(i + "==")).bytes) == 16
