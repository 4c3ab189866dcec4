"""The console's pictures and analyst feedback in a real browser (Debian's chromium): each
chart is drawn and has its table, the map marks the alerts' places, and a click on "useful" /
"false alarm" shows up as the rule's precision on the Rules page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console_server import WITHDRAWAL_RULE, ingest_feed, publish_alert
from playwright.sync_api import expect
from test_console_browser import log_in

from rasd.connections import kafka_consumer
from rasd.models import Alert, Severity, StoryArticle

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

FEED = Path(__file__).parent / "fixtures" / "desk.rss"


def alert(key, *, severity=Severity.high, places=("iraq",), ago=timedelta(minutes=1)):
    return Alert(
        key=key,
        kind="match",
        severity=severity,
        rule="base-withdrawal",
        title=f"Troops leave base {key}",
        tags=("military",),
        articles=(StoryArticle(article_id=f"art-{key}", outlet="BBC", title=f"report {key}"),),
        places=places,
        created_at=datetime.now(UTC) - ago,
    )


def test_alerts_per_hour_chart_and_map_of_places(console, browser):
    publish_alert(console.settings, alert("p1", places=("iraq", "mosul")))
    publish_alert(console.settings, alert("p2", severity=Severity.low, places=("mosul",)))
    publish_alert(console.settings, alert("p3", places=("baghdad",), ago=timedelta(hours=5)))

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, console.url)

    chart = page.locator("#alerts-per-hour")
    expect(chart.locator(".plot[data-ready=true] canvas")).to_have_count(1)
    # Non-empty (severity, hour) points: high and low this hour, high five hours ago.
    expect(chart.locator(".plot")).to_have_attribute("data-points", "3")
    expect(chart.locator(".chart-summary")).to_contain_text("3 alerts in the last 7 days")
    expect(chart.locator(".chart-summary")).to_contain_text("high 2")
    chart.locator("summary").click()
    rows = chart.locator("table.chart-table tbody tr")
    expect(rows).to_have_count(2)
    header = chart.locator("table.chart-table th").all_text_contents()
    assert header == ["Hour (UTC)", "info", "low", "medium", "high", "critical"]
    assert rows.last.locator("td").all_inner_texts()[1:] == ["0", "1", "0", "1", "0"]

    world = page.locator("#alerts-map .map[data-ready=true] svg.world")
    expect(world).to_be_visible()
    expect(world.locator('path.land.hit[data-place="iraq"]')).to_have_count(1)
    assert world.locator("path.land").count() > 100  # the whole outline is bundled
    mosul = world.locator('circle.place-dot[data-place="mosul"]')
    expect(mosul).to_have_count(1)
    baghdad = world.locator('circle.place-dot[data-place="baghdad"]')
    # Mosul lies north-west of Baghdad: up and to the left on the map.
    assert float(mosul.get_attribute("cy")) < float(baghdad.get_attribute("cy"))
    assert float(mosul.get_attribute("cx")) < float(baghdad.get_attribute("cx"))
    page.locator("#alerts-map summary").click()
    expect(page.locator('#alerts-map tr[data-place="mosul"] td').nth(2)).to_have_text("2")
    expect(page.locator('#alerts-map tr[data-place="iraq"] td').nth(3)).to_have_text("outline")

    page.goto(f"{console.url}/alerts?place=baghdad")
    expect(page.locator("#alerts-map tbody tr")).to_have_count(1)
    expect(page.locator("#alerts-map circle.place-dot")).to_have_count(1)
    assert errors == []


def test_health_charts_articles_per_feed_and_lag(console, browser):
    settings = console.settings
    articles = ingest_feed(settings, FEED)
    group = settings.group("pictures-probe")
    consumer = kafka_consumer(
        settings,
        settings.topic("articles"),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        consumer.poll(timeout_ms=5000, max_records=1)
        consumer.commit()
        # The group's lag as Kafka has it: end offsets less the commits, where committed.
        committed = {tp: consumer.committed(tp) for tp in consumer.assignment()}
        committed = {tp: offset for tp, offset in committed.items() if offset is not None}
        ends = consumer.end_offsets(list(committed))
        lag_now = sum(ends[tp] - offset for tp, offset in committed.items())
    finally:
        consumer.close()

    page = browser.new_page()
    log_in(page, console.url)
    page.goto(f"{console.url}/health")  # the page's pipeline read samples the lag
    page.reload()  # and the charts now show that sample
    feeds = sorted({a.feed for a in articles})
    per_minute = page.locator("#articles-per-minute")
    expect(per_minute.locator(".plot[data-ready=true] canvas")).to_have_count(1)
    expect(per_minute.locator(".chart-summary")).to_contain_text(f"{feeds[0]} ")
    per_minute.locator("summary").click()
    # Every row, not the first: the ingest may straddle a minute's turn.
    counted = [
        int(v)
        for row in per_minute.locator("table.chart-table tbody tr").all()
        for v in row.locator("td").all_inner_texts()[1:]
        if v != "-"
    ]
    assert sum(counted) == len(articles)

    lag = page.locator("#lag-per-minute")
    expect(lag.locator(".plot[data-ready=true] canvas")).to_have_count(1)
    expect(lag.locator(".chart-summary")).to_have_text(f"{group} now {lag_now}.")
    lag.locator("summary").click()
    header = lag.locator("table.chart-table th").all_text_contents()
    assert header == ["Minute (UTC)", group]
    sampled = [
        cells[1]
        for cells in (
            row.locator("td").all_inner_texts()
            for row in lag.locator("table.chart-table tbody tr").all()
        )
        if cells[1] != "-"
    ]
    # One sample a minute; the two page loads fall in two minutes when the minute turns.
    assert sampled and set(sampled) == {str(lag_now)} and len(sampled) <= 2


def test_feedback_click_to_precision_and_sparkline(console, browser):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    publish_alert(console.settings, alert("fb1"))
    publish_alert(console.settings, alert("fb2", ago=timedelta(days=2)))

    page = browser.new_page()
    log_in(page, console.url)
    page.goto(f"{console.url}/rules")
    row = page.locator('tr[data-rule="base-withdrawal"]')
    expect(row.locator("td.precision").first).to_have_text("no feedback")
    expect(row.locator(".sparkline[data-ready=true] canvas")).to_have_count(1)
    expect(row.locator(".sparkline")).to_have_attribute("data-total", "2")
    expect(row.locator(".spark-text")).to_have_text("2 in 7 d")

    page.goto(f"{console.url}/alerts/fb1")
    page.fill("form.feedback input[name=note]", "يستحق المتابعة")
    page.click("#feedback-useful")
    expect(page.locator("#feedback-state")).to_contain_text("useful by analyst")
    expect(page.locator("#feedback-state")).to_contain_text("يستحق المتابعة")
    page.goto(f"{console.url}/alerts/fb2")
    page.click("#feedback-false-alarm")
    expect(page.locator("#feedback-state")).to_contain_text("false alarm by analyst")

    story = page.locator("form.missed").first
    story.locator("select[name=rule]").select_option("base-withdrawal")
    story.locator("button").click()
    expect(story.locator(".form-status")).to_have_text("Done.")

    page.click("text=Rules")
    cells = page.locator('tr[data-rule="base-withdrawal"] td.precision')
    expect(cells.nth(0)).to_have_text("50% of 2 judged")
    expect(cells.nth(1)).to_have_text("50% of 2 judged")


def test_should_have_matched_from_a_dry_run(console, browser):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    ingest_feed(console.settings, FEED)
    page = browser.new_page()
    log_in(page, console.url)
    page.goto(f"{console.url}/rules/edit/withdrawal.yaml")
    page.fill("#dry-run-n", "50")
    page.click("#dry-run")
    missed = page.locator("#dry-run-result ol.unmatched li").first
    expect(missed).to_be_visible(timeout=30_000)
    article_id = missed.get_attribute("data-article")
    missed.locator("input[name=note]").fill("a handover, in other words")
    missed.locator("button").click()
    expect(missed.locator(".form-status")).to_have_text("Done.")
    given = page.evaluate("fetch('/api/feedback').then(r => r.json())")
    assert [(f["verdict"], f["articles"], f["rule"]) for f in given] == [
        ("missed", [article_id], "base-withdrawal")
    ]
