"""Prometheus metrics of the connectors (served by ``rasd connectors run --metrics-port``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FETCHES = Counter(
    "rasd_connector_fetches",
    "Feed fetches by outcome (ok, not-modified, or the error reason).",
    ["feed", "outcome"],
)
FETCH_ERRORS = Counter(
    "rasd_connector_fetch_errors",
    "Failed polls by reason (http-error, timeout, invalid-xml, ...).",
    ["feed", "reason"],
)
FETCH_SECONDS = Histogram(
    "rasd_connector_fetch_seconds",
    "Time to fetch one feed document.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ENTRIES = Counter(
    "rasd_connector_entries",
    "Feed entries by result: seen (in a document), new (produced).",
    ["feed", "result"],
)
ENTRY_ISSUES = Counter(
    "rasd_connector_entry_issues",
    "Entries with problems: missing-date, future-date, duplicate-guid, untitled, empty-feed.",
    ["feed", "issue"],
)
LAST_SUCCESS = Gauge(
    "rasd_connector_last_success_timestamp_seconds",
    "When the feed was last polled successfully.",
    ["feed"],
)
FEEDS_OWNED = Gauge("rasd_connector_feeds_owned", "Feeds this process holds the lease of.")
