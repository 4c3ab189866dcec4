"""The console API against real Redis and Kafka: alerts, rules, silences, health."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from console_server import WITHDRAWAL_RULE, publish_alert, run_async
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from rasd.connections import async_redis_client, kafka_consumer, kafka_producer
from rasd.connectors.health import HealthRecorder
from rasd.keys import RedisKeys
from rasd.models import Alert, Article, Severity, StoryArticle, TermHit
from rasd.notify import DeadLetter

pytestmark = pytest.mark.integration


def make_alert(
    key: str, *, rule="r1", severity=Severity.high, places=("iraq",), outlet="BBC", created_at=None
) -> Alert:
    return Alert(
        key=key,
        kind="match",
        severity=severity,
        rule=rule,
        title=f"title {key}",
        articles=(StoryArticle(article_id=key, outlet=outlet, title=f"title {key}", lang="en"),),
        places=places,
        created_at=created_at or datetime.now(UTC),
    )


def csrf(client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf}


def test_alert_list_filters_detail_and_ack(console, client):
    now = datetime.now(UTC)
    publish_alert(console.settings, make_alert("a", created_at=now - timedelta(minutes=3)))
    publish_alert(
        console.settings,
        make_alert(
            "b",
            rule="r2",
            severity=Severity.low,
            places=("syria",),
            outlet="Rudaw",
            created_at=now - timedelta(minutes=2),
        ),
    )
    publish_alert(
        console.settings,
        make_alert("c", severity=Severity.critical, created_at=now - timedelta(minutes=1)),
    )

    def keys(**params):
        response = client.get("/api/alerts", params=params)
        assert response.status_code == 200, response.text
        return [e["alert"]["key"] for e in response.json()]

    assert keys() == ["c", "b", "a"]
    assert keys(severity="high") == ["c", "a"]
    assert keys(rule="r2") == ["b"]
    assert keys(place="iraq") == ["c", "a"]
    assert keys(outlet="Rudaw") == ["b"]
    assert keys(rule="r1", severity="critical") == ["c"]
    assert client.get("/api/alerts", params={"severity": "urgent"}).status_code == 422

    assert client.get("/api/alerts/a").json()["ack"] is None
    assert client.post("/api/alerts/nope/ack", headers=csrf(client)).status_code == 404
    assert client.post("/api/alerts/a/ack", headers=csrf(client)).status_code == 200
    ack = client.get("/api/alerts/a").json()["ack"]
    assert ack["by"] == "analyst"
    raw = json.loads(
        run_async(lambda: _hget(console.settings, RedisKeys(console.settings).alerts_acks, "a"))
    )
    assert raw["by"] == "analyst" and "at" in raw
    assert client.get("/api/alerts/nope").status_code == 404


async def _hget(settings, key, field):

    r = async_redis_client(settings)
    try:
        return await r.hget(key, field)
    finally:
        await r.aclose()


def test_live_stream_follows_filters_and_updates(console, client):
    with client.stream("GET", "/api/alerts/live", params={"rule": "wanted"}) as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        publish_alert(console.settings, make_alert("other", rule="other"))
        publish_alert(console.settings, make_alert("w1", rule="wanted"))
        publish_alert(console.settings, make_alert("w1", rule="wanted"), revision=1)
        events = []
        for line in lines:
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if len(events) == 2:
                    break
    assert [(e["key"], e["revision"]) for e in events] == [("w1", 0), ("w1", 1)]
    assert 'data-key="w1"' in events[0]["html"]


def test_rule_files_check_save_history_and_hits(console, client):
    rules_dir = console.settings.rules_dir
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    publish_alert(console.settings, make_alert("h1", rule="base-withdrawal"))
    publish_alert(
        console.settings,
        make_alert("h2", rule="base-withdrawal", created_at=datetime.now(UTC) - timedelta(days=3)),
    )

    files = client.get("/api/rules").json()
    assert files[0]["path"] == "withdrawal.yaml"
    rule = files[0]["rules"][0]
    assert (rule["id"], rule["hits_24h"], rule["hits_7d"]) == ("base-withdrawal", 1, 2)
    assert rule["last_match"] is not None

    bad = WITHDRAWAL_RULE.replace("severity: high", "severity: hgh")
    check = client.post(
        "/api/rules/check", json={"path": "withdrawal.yaml", "text": bad}, headers=csrf(client)
    ).json()
    assert not check["ok"]
    assert (check["errors"][0]["line"], check["errors"][0]["column"]) == (3, 11)

    url = "/api/rules/file/withdrawal.yaml"
    refused = client.put(url, json={"path": "withdrawal.yaml", "text": bad}, headers=csrf(client))
    assert refused.status_code == 422
    assert refused.json()["detail"]["errors"][0]["line"] == 3
    assert (rules_dir / "withdrawal.yaml").read_text(encoding="utf-8") == WITHDRAWAL_RULE

    good = WITHDRAWAL_RULE.replace("severity: high", "severity: critical")
    saved = client.put(url, json={"path": "withdrawal.yaml", "text": good}, headers=csrf(client))
    assert saved.status_code == 200 and saved.json()["ok"]
    assert (rules_dir / "withdrawal.yaml").read_text(encoding="utf-8") == good
    assert [p.name for p in rules_dir.iterdir()] == ["withdrawal.yaml"]  # no temporary left

    new = client.put(
        "/api/rules/file/desk/new.yaml",
        json={"path": "desk/new.yaml", "text": good.replace("base-withdrawal", "other")},
        headers=csrf(client),
    )
    assert new.status_code == 200
    assert (rules_dir / "desk" / "new.yaml").is_file()

    duplicate = client.put(
        "/api/rules/file/desk/copy.yaml",
        json={"path": "desk/copy.yaml", "text": good},
        headers=csrf(client),
    )
    assert duplicate.status_code == 422
    [problem] = duplicate.json()["detail"]["errors"]
    assert (problem["line"], problem["column"]) == (1, 5)
    assert "(also in withdrawal.yaml)" in problem["message"]
    assert not (rules_dir / "desk" / "copy.yaml").exists()

    history = client.get("/api/rules/history/withdrawal.yaml").json()
    assert len(history) == 1
    assert history[0]["by"] == "analyst"
    assert "-severity: high\n+severity: critical\n" in history[0]["diff"]
    assert client.get(url).json()["text"] == good


@pytest.mark.parametrize(
    "path", ["../escape.yaml", "/etc/passwd.yaml", "notes.txt", ".hidden.yaml", "a/../../b.yaml"]
)
def test_rule_paths_outside_the_rules_dir_are_refused(client, path):
    body = {"path": path, "text": WITHDRAWAL_RULE}
    response = client.put(f"/api/rules/file/{path}", json=body, headers=csrf(client))
    assert response.status_code in (404, 422), response.status_code
    assert client.post("/api/rules/check", json=body, headers=csrf(client)).status_code == 422


def test_dry_run_reads_the_last_n_articles(console, client):
    producer = kafka_producer(console.settings)
    base = datetime.now(UTC) - timedelta(hours=1)
    titles = [
        "Troops withdraw from an Iraq air base",
        "Markets rally",
        "Army to withdraw from base in Iraq",
    ]
    try:
        producer.send(console.settings.topic("articles"), key=b"junk", value=b"not json")
        producer.flush(timeout=30)
        for i, title in enumerate(titles):
            article = Article(
                id=f"art{i}",
                outlet="Desk",
                feed="desk",
                lang="en",
                title=title,
                fetched_at=base + timedelta(minutes=i),
            )
            producer.send(
                console.settings.topic("articles"),
                key=article.id.encode(),
                value=article.model_dump_json().encode(),
            )
            producer.flush(timeout=30)  # one at a time: their record times are in order
    finally:
        producer.close()

    def dry_run(n):
        response = client.post(
            "/api/rules/dry-run",
            json={"path": "draft.yaml", "text": WITHDRAWAL_RULE, "articles": n},
            headers=csrf(client),
        )
        assert response.status_code == 200, response.text
        return response.json()

    everything = dry_run(50)
    assert everything["articles_checked"] == 3
    assert [m["article_id"] for m in everything["matches"]] == ["art2", "art0"]
    assert everything["matches"][0]["terms"] == ["base", "withdraw"]
    assert "<mark>withdraw</mark>" in everything["html"]
    assert [m["article_id"] for m in dry_run(1)["matches"]] == ["art2"]
    assert dry_run(2)["articles_checked"] == 2

    invalid = client.post(
        "/api/rules/dry-run",
        json={"path": "draft.yaml", "text": "id: [", "articles": 5},
        headers=csrf(client),
    ).json()
    assert not invalid["check"]["ok"] and invalid["articles_checked"] == 0

    # With labels, the dry run reports what `rasd rules eval` would: art0 and art2 are found
    # (one labelled a hit, one not labelled military: a false alarm), art1 a miss.
    labels = "\n".join(
        [
            '{"id": "art0", "labels": ["MILITARY"], "status": "judged"}',
            '{"id": "art1", "labels": ["MILITARY"], "status": "judged"}',
            '{"id": "art2", "labels": [], "status": "judged"}',
            "{broken",
        ]
    )
    scored = client.post(
        "/api/rules/dry-run",
        json={"path": "draft.yaml", "text": WITHDRAWAL_RULE, "articles": 50, "labels": labels},
        headers=csrf(client),
    ).json()
    assert scored["labelled_articles"] == 3
    assert scored["label_errors"][0].startswith("labels:4: skipped")
    (overall,) = [s for s in scored["scores"] if s["lang"] == "all"]
    assert (overall["tag"], overall["hits"], overall["misses"], overall["false_alarms"]) == (
        "military",
        1,
        1,
        1,
    )
    assert overall["precision"] == 0.5 and overall["recall"] == 0.5
    assert "Against your labels" in scored["html"] and "<td>0.50</td>" in scored["html"]


def test_silence_from_an_alert(console, client):
    publish_alert(console.settings, make_alert("s1"))
    response = client.post(
        "/api/silences",
        json={"matchers": ["rule=r1", "places=iraq"], "duration": "2h", "comment": "exercise"},
        headers=csrf(client),
    )
    assert response.status_code == 200, response.text
    silence = response.json()
    assert silence["author"] == "analyst"
    assert [f"{m['name']}{m['op']}{m['value']}" for m in silence["matchers"]] == [
        "rule=r1",
        "places=iraq",
    ]
    assert "exercise" in client.get("/alerts/s1").text
    assert [s["id"] for s in client.get("/api/silences").json()] == [silence["id"]]
    expired = client.post(f"/api/silences/{silence['id']}/expire", headers=csrf(client))
    assert expired.status_code == 200
    assert client.post("/api/silences/nope/expire", headers=csrf(client)).status_code == 404
    for bad in (
        {"matchers": ["nonsense"], "duration": "2h", "comment": "x"},
        {"matchers": ["rule=r1"], "duration": "soon", "comment": "x"},
        {"matchers": ["rule=r1"], "duration": "0s", "comment": "x"},
    ):
        assert client.post("/api/silences", json=bad, headers=csrf(client)).status_code == 422


def test_dead_letters_retry_and_discard(console, client):
    settings = console.settings
    alert = make_alert("dead1")
    letters = [
        DeadLetter(
            reason="webhook 404", receiver="desk", attempts=3, alerts=(alert,), at=datetime.now(UTC)
        ),
        DeadLetter(reason="unreadable outbox entry", raw={"x": "y"}, at=datetime.now(UTC)),
    ]

    async def add():
        from rasd.notify.ledger import Ledger

        r = async_redis_client(settings)
        try:
            pipe = r.pipeline(transaction=False)
            for letter in letters:  # as the notifier writes them
                Ledger(r, settings).dead_letter(pipe, letter)
            return await pipe.execute()
        finally:
            await r.aclose()

    retry_id, raw_id = run_async(add)
    listed = client.get("/api/dead-letters").json()
    assert listed["count"] == 2
    assert [d["id"] for d in listed["items"]] == [raw_id, retry_id]
    assert "webhook 404" in client.get("/health").text

    assert client.post(f"/api/dead-letters/{raw_id}/retry", headers=csrf(client)).status_code == 409
    assert (
        client.post(f"/api/dead-letters/{retry_id}/retry", headers=csrf(client)).status_code == 200
    )
    outbox = run_async(lambda: _xrange(settings, RedisKeys(settings).outbox))
    assert [(f["key"], f["revision"]) for _, f in outbox] == [("dead1", "0")]
    assert (
        client.post(f"/api/dead-letters/{raw_id}/discard", headers=csrf(client)).status_code == 200
    )
    assert (
        client.post(f"/api/dead-letters/{raw_id}/discard", headers=csrf(client)).status_code == 404
    )
    assert client.get("/api/dead-letters").json()["count"] == 0


async def _xrange(settings, key):

    r = async_redis_client(settings)
    try:
        return await r.xrange(key)
    finally:
        await r.aclose()


def test_feed_health_from_the_connectors_records(console, client):
    async def record():

        r = async_redis_client(console.settings)
        try:
            recorder = HealthRecorder(console.settings, r)
            await recorder.register(
                ["bbc-ar", "rudaw"],
                {"bbc-ar": {"outlet": "BBC عربي"}, "rudaw": {"outlet": "Rudaw"}},
            )
            await recorder.record("bbc-ar", {"status": "ok", "last_poll": datetime.now(UTC)})
            await recorder.record(
                "rudaw",
                {
                    "status": "error",
                    "error_reason": "http-error",
                    "http_status": 503,
                    "consecutive_failures": 4,
                },
            )
        finally:
            await r.aclose()

    run_async(record)
    feeds = {f["name"]: f for f in client.get("/api/health/feeds").json()}
    assert feeds["bbc-ar"]["status"] == "ok" and feeds["bbc-ar"]["outlet"] == "BBC عربي"
    assert feeds["rudaw"]["http_status"] == 503
    page = client.get("/health").text
    assert 'class="feed failing" data-feed="rudaw"' in page
    assert "http-error (HTTP 503)" in page


def test_pipeline_lag_throughput_and_outbox(console, client):
    settings = console.settings
    topic = settings.topic("matches")
    producer = kafka_producer(settings)
    try:
        for i in range(5):
            producer.send(topic, key=b"k", value=f"m{i}".encode())
        producer.flush(timeout=30)
    finally:
        producer.close()
    group = settings.group("escalate")
    consumer = kafka_consumer(
        settings,
        topic,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        read = 0
        deadline = time.monotonic() + 30
        while read < 2 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500, max_records=2 - read).values():
                read += len(records)
        consumer.commit()
    finally:
        consumer.close()
    publish_alert(settings, make_alert("o1"))

    pipeline = client.get("/api/health/pipeline").json()
    lag = [row for row in pipeline["lag"] if row["group"] == group]
    assert sum(row["lag"] for row in lag) == 3
    assert sum(row["end"] for row in lag) == 5
    rates = {t["topic"]: t for t in pipeline["throughput"]}
    assert rates[topic]["last_5m"] == 5 and rates[topic]["total"] == 5
    assert rates[settings.topic("articles")]["last_1h"] == 0
    assert pipeline["outbox"]["length"] == 1


def test_lag_leaves_out_the_articles_offsets_faust_kept_before_the_match_stage(console, client):
    settings = console.settings
    topic = settings.topic("articles")
    tp = TopicPartition(topic, 0)
    # An upgraded deployment: the old worker's group committed 1, the match stage's group 3 (the
    # broker takes an offset past the log's end; no record is needed).
    for group, offset in ((settings.group("streams"), 1), (settings.group("match"), 3)):
        consumer = kafka_consumer(settings, group_id=group, enable_auto_commit=False)
        try:
            consumer.assign([tp])
            consumer.commit({tp: OffsetAndMetadata(offset, "", -1)})
        finally:
            consumer.close()

    lag = client.get("/api/health/pipeline").json()["lag"]
    rows = [
        (row["group"], row["partition"], row["committed"]) for row in lag if row["topic"] == topic
    ]
    assert (settings.group("match"), 0, 3) in rows
    assert all(group != settings.group("streams") for group, _, _ in rows)


def test_alert_page_highlights_title_and_summary_hits(console, client):
    title = "قصف صاروخي على قاعدة عين الأسد"
    summary = "أفادت مصادر بسقوط صواريخ قرب قاعدة عين الأسد الجوية غرب العراق."
    at, rockets, base = summary.index("قاعدة"), summary.index("صواريخ"), title.index("قاعدة")
    alert = make_alert("hl").model_copy(
        update={
            "terms": (
                TermHit(term="قاعدة", field="title", start=base, end=base + 5, text="قاعدة"),
                TermHit(term="قاعدة", field="summary", start=at, end=at + 5, text="قاعدة"),
                TermHit(
                    term="صاروخ", field="summary", start=rockets, end=rockets + 6, text="صواريخ"
                ),
            ),
            "articles": (
                StoryArticle(
                    article_id="x", outlet="الجزيرة", title=title, summary=summary, lang="ar"
                ),
            ),
        }
    )
    publish_alert(console.settings, alert)
    page = client.get("/alerts/hl").text
    assert '<p class="headline" dir="rtl">قصف صاروخي على <mark>قاعدة</mark> عين الأسد</p>' in page
    assert (
        '<div class="summary-text"><p dir="auto">أفادت مصادر بسقوط <mark>صواريخ</mark> قرب '
        "<mark>قاعدة</mark> عين الأسد الجوية غرب العراق.</p></div>"
    ) in page


def test_live_stream_resumes_after_an_outbox_id(console, client):
    publish_alert(console.settings, make_alert("before"))
    page = client.get("/alerts").text
    live_url = re.search(r'data-live="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "after=" in live_url
    # Written after the page was read but before the browser connected: still delivered.
    publish_alert(console.settings, make_alert("between"))
    with client.stream("GET", live_url) as stream:
        data = next(line for line in stream.iter_lines() if line.startswith("data:"))
    assert json.loads(data[5:])["key"] == "between"


def test_config_reload_state_on_the_health_page(console, client, tmp_path):
    from rasd.configwatch import ConfigWatcher, ReloadStates
    from rasd.connectors.config import parse_feeds

    path = tmp_path / "feeds.yaml"
    path.write_text("feeds: []\n")
    watcher = ConfigWatcher(path, parse_feeds, kind="feeds")
    watcher.load()
    path.write_text("feeds: []\npoller: {intervall: 5}\n")
    watcher.check()

    async def publish():

        r = async_redis_client(console.settings)
        try:
            await ReloadStates(console.settings, "conn-1").publish(r, watcher.state("conn-1"))
        finally:
            await r.aclose()

    run_async(publish)
    [state] = client.get("/api/health/config").json()
    assert state["process"] == "conn-1" and state["version"] == watcher.version
    assert not state["ok"] and state["errors"][0].startswith(f"{path}:2:")
    page = client.get("/health").text
    assert 'class="failing" data-config="feeds" data-process="conn-1"' in page
    assert f"{path}:2:" in page and "refused" in page


def test_mixed_direction_summary_is_one_paragraph_per_direction(console, client):
    # An English caption, then the Arabic report, in one run as the feeds send it.
    summary = "Photo: an aerial view of the base. أعلن التحالف سحب قواته من القاعدة."
    alert = make_alert("mixed").model_copy(
        update={
            "articles": (
                StoryArticle(
                    article_id="m", outlet="الجزيرة", title="عنوان", summary=summary, lang="ar"
                ),
            )
        }
    )
    publish_alert(console.settings, alert)
    page = client.get("/alerts/mixed").text
    assert (
        '<div class="summary-text"><p dir="auto">Photo: an aerial view of the base.</p>'
        '<p dir="auto">أعلن التحالف سحب قواته من القاعدة.</p></div>'
    ) in page
