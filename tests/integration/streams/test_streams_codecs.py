"""A `rasd worker`'s match stage (aiokafka) reads an articles topic that holds gzip batches from
before the topic became zstd and zstd batches from after, and matches every article."""

from __future__ import annotations

import pytest
from kafka.errors import CoordinatorNotAvailableError
from polling import poll
from streams_harness import WITHDRAWAL, produce, wait_for
from test_streams_matching import committed, matched_ids
from test_streams_worker import STARTUP, story_stream
from topic_batches import articles_config, batch_codecs, make_topic_old, produce_gzip

from rasd.topics import ensure_topics

pytestmark = pytest.mark.integration


def test_a_worker_matches_gzip_records_from_before_and_zstd_from_after(
    settings, rules_dir, workers
):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    articles = story_stream(20, 2)
    old, new = articles[:20], articles[20:]
    make_topic_old(settings)
    produce_gzip(settings, old)
    ensure_topics(settings)  # what every rasd process does at start: the upgrade to zstd
    poll(lambda: articles_config(settings, "compression.type") == "zstd", 15, "zstd")
    produce(settings, new)  # uncompressed: the broker stores it as the topic says
    codecs = batch_codecs(settings, "articles")
    assert set(codecs) == {"gzip", "zstd"}, codecs

    def all_committed() -> bool:
        try:
            return sum(committed(settings, settings.group("match")).values()) == len(articles)
        except CoordinatorNotAvailableError:  # a broker's first group: its offsets topic
            return False

    workers()
    wait_for(all_committed, STARTUP, "the match stage's commits up to the end")
    assert set(matched_ids(settings, len(articles))) == {a.id for a in articles}
