"""Prometheus metrics of the stream worker (served when RASD_STREAMS_METRICS_PORT is set)."""

from prometheus_client import Counter, Gauge

ARTICLES = Counter("rasd_stream_articles_total", "Articles read by the match agent")
MATCHES = Counter("rasd_stream_matches_total", "Matches produced", ["rule"])
DEAD_LETTERS = Counter("rasd_stream_dead_letters_total", "Records sent to the dead-letter topic")
ALERTS = Counter("rasd_alerts_written_total", "Alert revisions written to the outbox", ["kind"])
RULE_ERRORS = Counter("rasd_rule_errors_total", "Rule files or records that failed to load")
RULES_LOADED = Gauge("rasd_rules_loaded", "Rules in the worker's current rule set")
SKIPPED_RECORDS = Counter(
    "rasd_stream_skipped_records_total",
    "Times the consumer skipped a record and the partition was read again from it",
    ["topic"],
)
