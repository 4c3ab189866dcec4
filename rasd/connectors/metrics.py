"""Prometheus metrics of the connectors (served by ``rasd connectors run --metrics-port``)."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

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
DOCUMENT_WARNINGS = Counter(
    "rasd_connector_document_warnings",
    "What was repaired or guessed in feed documents: replaced-bytes, encoding-mismatch, "
    "encoding-guessed, encoding-unknown, control-chars, truncated, bare-ampersand, "
    "undeclared-prefix (counts of bytes, characters or documents).",
    ["feed", "warning"],
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


def serve(port: int, host: str = "127.0.0.1") -> tuple[WSGIServer, threading.Thread]:
    """Serve the metrics on ``host:port`` (loopback by default, as the workers do: metrics name
    every feed and its errors, which is for the operator, not the network)."""
    return start_http_server(port, addr=host)
