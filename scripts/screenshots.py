"""Screenshots of the console's main pages, with real alerts, for README (docs/screenshots/).

    source /work/helper-env.sh   # or: python -m rasd dev up
    python scripts/screenshots.py [--data ../shared/eval/ar/ant_multisource_rss_2018_sample.jsonl]

Runs the real pipeline in a namespace of its own: the articles (a JSONL of real Arabic news
items when given, the test fixture feed otherwise) are ingested, a `rasd worker` with the
shipped rules turns them into alerts, and Debian's chromium photographs the console. The
namespace's topics and keys are removed afterwards.

So that the charts have a past to draw, the script also writes a made-up week: alerts of the
shipped rules with invented headlines (written as streams writes alerts), analysts' verdicts
on some of them, and an hour of articles per feed and consumer lag (``--no-history`` leaves
only what the pipeline made).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from console_server import (  # noqa: E402
    PASSWORD,
    USER,
    console_settings,
    fill_editor,
    launch_chromium,
    login,
    running_console,
)

from rasd.connections import async_redis_client, redis_client  # noqa: E402
from rasd.connectors.health import HealthRecorder  # noqa: E402
from rasd.connectors.ingest import ingest  # noqa: E402
from rasd.console.feedback import Feedback, FeedbackStore  # noqa: E402
from rasd.devstack.namespace import drop_namespace  # noqa: E402
from rasd.keys import RedisKeys  # noqa: E402
from rasd.models import Alert, StoryArticle  # noqa: E402
from rasd.notify import DeadLetter, SilenceMatcher, SilenceStore  # noqa: E402
from rasd.outbox import Outbox  # noqa: E402
from rasd.rules import load_rules  # noqa: E402
from rasd.settings import Settings  # noqa: E402
from rasd.timeseries import MinuteCounters  # noqa: E402
from rasd.topics import ensure_topics  # noqa: E402

FIXTURE = REPO / "tests" / "e2e" / "console" / "fixtures" / "desk.rss"
OUT = REPO / "docs" / "screenshots"


def run_worker(settings: Settings, rules_dir: Path, state: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "RASD_REDIS_URL": settings.redis_dsn,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_RULES_DIR": str(rules_dir),
        "RASD_STATE_DIR": str(state),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rasd", "worker"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for_alerts(settings: Settings, minimum: int, timeout: float) -> int:
    client = redis_client(settings)
    try:
        deadline = time.monotonic() + timeout
        last, stable_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = client.hlen(RedisKeys(settings).alerts)
            if count != last:
                last, stable_since = count, time.monotonic()
            elif count >= minimum and time.monotonic() - stable_since > 5:
                return count
            time.sleep(0.5)
        return last
    finally:
        client.close()


async def decorate(settings: Settings) -> None:
    """Feed health records, a silence and a dead letter, so those pages show something."""
    client = async_redis_client(settings)
    try:
        now = datetime.now(UTC)
        health = HealthRecorder(settings, client)
        feeds = {
            "aljazeera-ar": {"outlet": "الجزيرة نت"},
            "bbc-arabic": {"outlet": "BBC عربي"},
            "skynews-ar": {"outlet": "سكاي نيوز عربية"},
            "rudaw-ar": {"outlet": "روداو"},
        }
        await health.register(list(feeds), feeds)
        for name in ("aljazeera-ar", "bbc-arabic", "skynews-ar"):
            await health.record(
                name,
                {"status": "ok", "last_poll": now, "last_success": now, "latency_ms": 240},
                new_items=12,
            )
        await health.record(
            "rudaw-ar",
            {
                "status": "error",
                "last_poll": now,
                "error_reason": "http-error",
                "http_status": 503,
                "consecutive_failures": 3,
            },
        )
        keys = await client.zrevrange(RedisKeys(settings).alerts_by_time, 0, 0)
        if keys:
            alert = Alert.model_validate_json(
                await client.hget(RedisKeys(settings).alerts, keys[0])
            )
            await SilenceStore(client, settings).add(
                [SilenceMatcher.parse(f"rule={alert.rule}")],
                ends_at=datetime.now(UTC).replace(microsecond=0).replace(hour=23, minute=59),
                comment="تمرين عسكري معلن — exercise announced",
                author=USER,
            )
            dead = DeadLetter(
                reason="webhook answered 404",
                receiver="iraq-desk",
                attempts=3,
                alerts=(alert,),
                at=now,
            )
            await client.xadd(RedisKeys(settings).notify_dead, {"dead": dead.model_dump_json()})
    finally:
        await client.aclose()


# The made-up week: invented headlines (no outlet's text), one pattern per shipped rule, in
# Arabic and English, about places the gazetteer knows (city, its country, Arabic, English).
HEADLINES = {
    "rocket-attack": ("سقوط صواريخ قرب مطار {ar}", "Rockets land near {en} airport"),
    "air-strike": ("غارة جوية على مواقع قرب {ar}", "Air strike on positions near {en}"),
    "shelling": ("قصف مدفعي على أطراف {ar}", "Artillery shelling on the outskirts of {en}"),
    "militia-threat": (
        "فصيل مسلح يتوعد القوات الأجنبية في {ar}",
        "Armed faction threatens foreign forces in {en}",
    ),
    "troop-withdrawal": (
        "انسحاب قوات التحالف من قاعدة قرب {ar}",
        "Coalition troops leave a base near {en}",
    ),
    "embassy-threat": ("تهديد لسفارة أجنبية في {ar}", "Threat against a foreign embassy in {en}"),
    "foreign-evacuation": ("إجلاء رعايا أجانب من {ar}", "Foreign nationals evacuated from {en}"),
    "truce-breakdown": ("انهيار الهدنة في {ar}", "Truce breaks down in {en}"),
    "foreign-troop-casualties": (
        "مقتل جنديين أجنبيين في هجوم قرب {ar}",
        "Two foreign soldiers killed near {en}",
    ),
}
# How often each rule fires in the made-up week, relative to the others.
RULE_WEIGHTS = {"rocket-attack": 5, "shelling": 4, "air-strike": 4, "militia-threat": 2}
PLACES = [
    ("mosul", "iraq", "الموصل", "Mosul"),
    ("baghdad", "iraq", "بغداد", "Baghdad"),
    ("erbil", "iraq", "أربيل", "Erbil"),
    ("basra", "iraq", "البصرة", "Basra"),
    ("kirkuk", "iraq", "كركوك", "Kirkuk"),
    ("damascus", "syria", "دمشق", "Damascus"),
    ("aleppo", "syria", "حلب", "Aleppo"),
    ("deir-ez-zor", "syria", "دير الزور", "Deir ez-Zor"),
    ("beirut", "lebanon", "بيروت", "Beirut"),
    ("sanaa", "yemen", "صنعاء", "Sanaa"),
    ("aden", "yemen", "عدن", "Aden"),
]
OUTLETS = ("مكتب الأخبار التجريبي", "Test Desk Wire", "نشرة رصد التجريبية")
ANALYSTS = (USER, "mona", "karim")


async def write_history(settings: Settings, rules_dir: Path, alerts: int = 60) -> None:
    """A week of alerts, verdicts on some, and the last hour of feed counts and lag."""
    rules = {r.id: r for r in load_rules(rules_dir).rules if r.id in HEADLINES}
    names = sorted(rules)
    weights = [RULE_WEIGHTS.get(n, 1) for n in names]
    pick = random.Random(14)
    now = datetime.now(UTC)
    client = async_redis_client(settings)
    try:
        outbox, feedback = Outbox(client, settings), FeedbackStore(settings, client)
        for n in range(alerts):
            rule = rules[pick.choices(names, weights)[0]]
            city, country, ar, en = pick.choice(PLACES)
            arabic = pick.random() < 0.7
            title = HEADLINES[rule.id][0 if arabic else 1].format(ar=ar, en=en)
            # Busier towards the present, with a quiet night or two.
            ago = timedelta(hours=min(pick.expovariate(1 / 40), 7 * 24 - 1))
            alert = Alert(
                key=f"{rule.id}:history-{n}",
                kind="match",
                severity=rule.severity,
                rule=rule.id,
                title=title,
                tags=tuple(rule.tags),
                places=(country, city),
                articles=(
                    StoryArticle(
                        article_id=f"history-{n}",
                        outlet=pick.choice(OUTLETS),
                        title=title,
                        lang="ar" if arabic else "en",
                        published_at=now - ago,
                    ),
                ),
                counts={"articles": 1},
                created_at=now - ago,
            )
            await outbox.try_write(alert, 0)
            if pick.random() < 0.4:
                # Shelling and militia threats are the noisy rules of this made-up week.
                noisy = rule.id in ("shelling", "militia-threat")
                await feedback.add(
                    Feedback(
                        verdict="false-alarm"
                        if pick.random() < (0.5 if noisy else 0.15)
                        else "useful",
                        rule=rule.id,
                        tags=tuple(rule.tags),
                        alert=alert.key,
                        articles=(f"history-{n}",),
                        by=pick.choice(ANALYSTS),
                        at=now - ago / 2,
                    )
                )
        per_feed = MinuteCounters(settings, "articles")
        lag = MinuteCounters(settings, "lag")
        async with client.pipeline(transaction=False) as pipe:
            for minute in range(1, 60):
                at = now - timedelta(minutes=minute)
                # A burst of news 40 to 42 minutes ago, which the worker took a quarter of an
                # hour to catch up with.
                burst = 40 <= minute <= 42
                for feed, usual in (("aljazeera-ar", 3), ("bbc-arabic", 2), ("skynews-ar", 1)):
                    count = usual * (4 if burst else 1) + pick.randint(-1, 1)
                    if count > 0:
                        per_feed.count(pipe, feed, count, at=at)
                behind = 6 * (15 - (40 - minute)) if 25 <= minute <= 40 else 0
                lag.gauge(pipe, settings.group("match"), behind + pick.randint(0, 2), at=at)
                lag.gauge(pipe, settings.group("streams"), pick.randint(0, 1), at=at)
                lag.gauge(pipe, settings.group("notify"), pick.randint(0, 1), at=at)
            await pipe.execute()
    finally:
        await client.aclose()


def photograph(url: str, rules_dir: Path, rule_file: str) -> None:
    import httpx
    from playwright.sync_api import sync_playwright

    with httpx.Client(base_url=url) as client:
        login(client)
        first = client.get("/api/alerts", params={"limit": 50}).json()
    # An Arabic alert whose matched words are in its headline shows the highlighting best.
    arabic = next(
        (
            e["alert"]["key"]
            for e in first
            if any("\u0600" <= ch <= "\u06ff" for ch in e["alert"]["title"])
            and any(t["field"] == "title" for t in e["alert"]["terms"])
        ),
        first[0]["alert"]["key"] if first else None,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = launch_chromium(playwright, Path(profile))
        try:
            page = context.new_page()
            page.goto(f"{url}/login")
            page.screenshot(path=OUT / "login.png")
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/alerts")
            page.locator("#live-status[data-state=live]").wait_for()
            page.locator("#alerts-per-hour .plot[data-ready=true]").wait_for()
            page.locator("#alerts-map .map[data-ready=true]").wait_for()
            page.screenshot(path=OUT / "alerts.png")
            if arabic:
                page.goto(f"{url}/alerts/{arabic}")
                page.fill("form.feedback input[name=note]", "تقرير مؤكد من مصدرين")
                page.click("#feedback-useful")
                page.locator("#feedback-state", has_text="useful by").wait_for()
                page.screenshot(path=OUT / "alert.png", full_page=True)
            page.goto(f"{url}/rules")
            page.locator(".sparkline[data-ready=true]").first.wait_for()
            page.screenshot(path=OUT / "rules.png")
            page.goto(f"{url}/rules/edit/{rule_file}")
            # The server's copy of the file; the CodeMirror editor replaces the textarea.
            text = page.locator("#rule-text").input_value()
            fill_editor(page, text.replace("severity: high", "severity: hgh", 1))
            # The error's line is out of view after the paste (CodeMirror draws only the lines
            # in view): clicking the listed error scrolls to it and draws its marker.
            page.locator("#rule-errors li").first.click()
            page.locator("#rule-code .cm-lintRange-error").first.wait_for()
            page.screenshot(path=OUT / "rule-editor-error.png")
            fill_editor(page, text)
            page.locator("#rule-ok").wait_for()
            page.fill("#dry-run-n", "2000")
            page.click("#dry-run")
            page.locator("#dry-run-result .summary").wait_for(timeout=60_000)
            page.screenshot(path=OUT / "rule-editor-dry-run.png")
            # A saved change for the History page: Arabic terms added to a list, so the diff
            # shows right-to-left lines with their +/- markers at the line start.
            edited = text.replace(
                "    - الدوري\n", "    - الدوري\n    - بطولة\n    - كأس العالم\n", 1
            )
            if edited != text:
                fill_editor(page, edited)
                page.click("#save")
                page.locator("#save-status", has_text="Saved.").wait_for()
                page.goto(f"{url}/rules/history/{rule_file}")
                page.locator("section.change pre.diff").first.wait_for()
                page.screenshot(path=OUT / "history.png")
            page.goto(f"{url}/health")
            page.locator("#articles-per-minute .plot[data-ready=true]").wait_for()
            page.locator("#lag-per-minute .plot[data-ready=true]").wait_for()
            page.screenshot(path=OUT / "health.png", full_page=True)
        finally:
            context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a JSONL of articles (rasd ingest format)")
    parser.add_argument("--rule", default="troop-withdrawal.yaml", help="rule file to edit")
    parser.add_argument(
        "--no-history", action="store_true", help="no made-up week of alerts, feedback and lag"
    )
    args = parser.parse_args()

    base = Settings()
    settings = Settings(
        kafka_bootstrap=base.kafka_servers,
        redis_url=base.redis_dsn,
        namespace=f"shots{uuid.uuid4().hex[:8]}",
    )
    ensure_topics(settings)
    work = Path(tempfile.mkdtemp(prefix="rasd-shots-"))
    rules_dir = work / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    settings = console_settings(settings, rules_dir)
    worker = run_worker(settings, rules_dir, work / "state", work / "worker.log")
    try:
        source = args.data if args.data and args.data.is_file() else FIXTURE
        print(f"ingesting {source}")
        report = asyncio.run(ingest(settings, [str(source)]))
        print(f"  {report.new} articles, {len(report.errors)} errors")
        print(f"  {wait_for_alerts(settings, 1, timeout=300)} alerts")
        asyncio.run(decorate(settings))
        if not args.no_history:
            asyncio.run(write_history(settings, rules_dir))
        with running_console(settings) as console:
            photograph(console.url, rules_dir, args.rule)
        print(f"screenshots in {OUT}")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        drop_namespace(settings)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
