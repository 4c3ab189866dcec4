"""Round trips through the real broker and the real Redis."""

import asyncio
import json
import uuid

from rasd.connections import aiokafka_consumer, kafka_producer, redis_client
from rasd.keys import RedisKeys
from rasd.models import Article


async def test_kafka_python_produces_and_aiokafka_consumes(settings):
    topic = settings.topic("articles")
    articles = [
        Article(
            id=f"a{i}",
            outlet="aljazeera",
            feed="aljazeera-ar",
            lang="ar",
            title=f"قصف صاروخي على قاعدة عين الأسد {i}",
        )
        for i in range(20)
    ]
    producer = kafka_producer(settings, acks="all")
    try:
        for article in articles:
            producer.send(topic, key=article.id.encode(), value=article.model_dump_json().encode())
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)

    consumer = aiokafka_consumer(
        settings,
        topic,
        group_id=settings.group("test"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: dict[str, Article] = {}
    try:

        async def collect():
            async for record in consumer:
                article = Article.model_validate_json(record.value)
                assert record.key.decode() == article.id
                received[article.id] = article
                if len(received) == len(articles):
                    return

        await asyncio.wait_for(collect(), timeout=60)
    finally:
        await consumer.stop()
    assert received == {a.id: a for a in articles}
    partitions = settings.topic_partitions
    assert partitions > 1, "the topic should be partitioned so workers can share it"


def test_redis_round_trip_with_stream(settings):
    client = redis_client(settings)
    try:
        stream = RedisKeys(settings).outbox
        payload = {"title": "انسحاب القوات من قاعدة كركوك", "n": uuid.uuid4().hex}
        entry_id = client.xadd(stream, {"alert": json.dumps(payload, ensure_ascii=False)})
        [(read_id, fields)] = client.xrange(stream)
        assert read_id == entry_id
        assert json.loads(fields["alert"]) == payload
    finally:
        client.close()
