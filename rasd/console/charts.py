"""The figures behind the console's pictures, as plain series (the pages draw them with uPlot
and list them in tables).

Alerts per hour and hits per rule are counted from the alerts themselves (no counters kept);
articles per minute and consumer lag come from ``rasd.timeseries``; the map's places get their
coordinates from the gazetteer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from rasd.models import Alert, Severity
from rasd.rules.gazetteer import Gazetteer
from rasd.timeseries import MinuteSeries


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HourlySeries(Strict):
    """``counts[name][i]`` happened in the ``i``-th bucket after ``start``."""

    start: datetime
    bucket_seconds: int
    buckets: int
    counts: dict[str, list[int]]


class MinuteChart(Strict):
    start: datetime
    minutes: int
    values: dict[str, list[float | None]]


class HealthCharts(Strict):
    articles: MinuteChart
    lag: MinuteChart


class MapPlace(Strict):
    id: str
    kind: str
    name: str
    lat: float | None
    lon: float | None
    alerts: int


def _floor(at: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, at.tzinfo)


def bucketed(
    alerts: Iterable[Alert],
    now: datetime,
    span: timedelta,
    bucket: timedelta,
    key,
    names: Iterable[str] = (),
) -> HourlySeries:
    """Alerts counted per bucket of ``bucket`` over the ``span`` up to now, per ``key(alert)``
    (every name in ``names`` present even when zero)."""
    seconds = int(bucket.total_seconds())
    buckets = int(span / bucket)
    start = _floor(now, seconds) - bucket * (buckets - 1)
    counts = {name: [0] * buckets for name in names}
    for alert in alerts:
        i = int((alert.created_at - start).total_seconds() // seconds)
        if 0 <= i < buckets:
            counts.setdefault(key(alert), [0] * buckets)[i] += 1
    return HourlySeries(start=start, bucket_seconds=seconds, buckets=buckets, counts=counts)


def alerts_per_hour(alerts: Iterable[Alert], now: datetime) -> HourlySeries:
    """Last 7 days, per hour, per severity (lowest first, as the chart stacks them)."""
    return bucketed(
        alerts,
        now,
        timedelta(days=7),
        timedelta(hours=1),
        lambda a: a.severity.value,
        names=[s.value for s in Severity],
    )


def rule_hits(alerts: Iterable[Alert], now: datetime) -> HourlySeries:
    """Last 7 days, per 6 hours, per rule: the Rules page's sparklines."""
    return bucketed(alerts, now, timedelta(days=7), timedelta(hours=6), lambda a: a.rule)


def minute_chart(series: MinuteSeries) -> MinuteChart:
    return MinuteChart(start=series.start, minutes=series.minutes, values=series.values)


def places(alerts: Iterable[Alert], gazetteer: Gazetteer) -> list[MapPlace]:
    """The places of ``alerts`` with how many alerts name each, most first."""
    counts = Counter(p for a in alerts for p in a.places)
    known = {p.id: p for p in gazetteer.places if p.id in counts}
    out = []
    for place_id, n in counts.most_common():
        place = known.get(place_id)
        out.append(
            MapPlace(
                id=place_id,
                kind=place.kind if place else "unknown",
                name=(place.en[0] if place and place.en else place_id),
                lat=place.lat if place else None,
                lon=place.lon if place else None,
                alerts=n,
            )
        )
    return out
