"""Settings of the stream workers, from environment variables prefixed ``RASD_STREAMS_``.

They sit beside :class:`rasd.settings.Settings` (connections, namespace, partitions) and are
validated once when ``rasd worker`` starts. Durations are seconds; tests make them short.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StreamsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RASD_STREAMS_", frozen=True, extra="forbid")

    # Stories: a report joins an open story of the same rule when it arrives within
    # `story_window` of the story's latest report and its text is similar enough: words of
    # reports from two outlets at `story_similarity`, of one outlet at the stricter
    # `story_similarity_same_outlet` (bench/grouping.py measures both on judged pairs).
    story_window: float = Field(12 * 3600.0, gt=0.0)
    story_similarity: float = Field(0.15, gt=0.0, le=1.0)
    story_similarity_same_outlet: float = Field(0.35, gt=0.0, le=1.0)
    story_max_open: int = Field(200, ge=1, description="open stories kept per rule")
    story_max_articles: int = Field(20, ge=1, description="articles listed in one alert")
    # A story with this many reports is full: it stops absorbing reports, and the next one
    # starts a new story (a chain of loosely similar reports cannot grow one without end).
    story_max_reports: int = Field(100, ge=1)

    # Bounded state in Redis (see ARCHITECTURE.md, "Bounded state"). Outbox entries older
    # than `outbox_max_age` s, or beyond the newest `outbox_max_entries`, are trimmed, but
    # never one a consumer group has not read and acknowledged; alerts older than
    # `alerts_max_age` s (by their creation time), or beyond the newest `alerts_max`, leave
    # the alert hash and its index. Checked every `trim_interval` s by the writing worker.
    outbox_max_age: float = Field(86400.0, gt=0.0)
    outbox_max_entries: int = Field(10_000, ge=1)
    alerts_max_age: float = Field(30 * 86400.0, gt=0.0)
    alerts_max: int = Field(10_000, ge=1)
    trim_interval: float = Field(60.0, gt=0.0)

    # How long the outbox remembers which alert revisions it has written (replay window).
    idempotency_ttl: int = Field(7 * 86400, ge=60)

    # Hot reload: how often the leader compares the rules directory with the rules topic.
    rules_poll_interval: float = Field(1.0, gt=0.0)

    # Kafka group membership. A killed worker's partitions move after `session_timeout`.
    session_timeout: float = Field(10.0, ge=6.0)
    heartbeat_interval: float = Field(1.0, gt=0.0)
    commit_interval: float = Field(1.0, gt=0.0)

    # The match stage takes up to `batch_max` fetched articles at once and matches them back to
    # back; the stories agent, once a candidate came, what arrived within `batch_wait` s, at
    # most `batch_max` (a rule's state is written once per batch; see ARCHITECTURE.md, Streams,
    # "Where a worker's time goes").
    batch_max: int = Field(500, ge=1)
    batch_wait: float = Field(0.005, gt=0.0)
    # How long the producer gathers records into one request (faust's producer_linger).
    producer_linger: float = Field(0.002, ge=0.0)
    # The largest batch of records the producer sends to one partition in one request (faust's
    # producer_max_batch_size, 16 KiB by default). A partition has one request in flight at a
    # time, so a delivery larger than a batch went in that many requests, one after another: a
    # rule's story states of one stories batch are tens of KB. Under the broker's and topics'
    # message.max.bytes (1 MiB by default), which a batch must fit.
    producer_batch_bytes: int = Field(512 * 1024, ge=16 * 1024, le=1_000_000)
    # How long a thread waiting for the interpreter lock lets a busy one run on (the process's
    # switch interval; rasd.startup.switch_threads_every).
    switch_interval: float = Field(0.05, gt=0.0, le=1.0)
    # glibc's malloc asks for transparent huge pages for the analyser's caches (the worker
    # starts itself again with the tunable set; rasd.startup.restart_with_huge_pages).
    huge_pages: bool = True

    # faust's web server (0 = off, so that several workers share a machine without clashing).
    web_port: int = Field(0, ge=0, le=65535)
    # Prometheus metrics endpoint (0 = off).
    metrics_port: int = Field(0, ge=0, le=65535)

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> StreamsSettings:
        if self.heartbeat_interval * 3 > self.session_timeout:
            raise ValueError("heartbeat_interval must be at most a third of session_timeout")
        return self
