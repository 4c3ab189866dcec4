"""Every Slack message stays within Block Kit's documented limits whatever the feed sends.

The worst cases are built here: long Arabic titles and summaries, Al Jazeera-style
percent-encoded URLs of ~460 characters, many reports, outlets, places and terms, text that
grows when escaped, many alerts in one group. slack_sdk's Block Kit models check each block;
the limits they do not know (50 blocks, 2,000 characters a field) are checked as well.
"""

from urllib.parse import quote

import pytest
from notify_samples import arabic_alert, english_alert
from slack_sdk.models.blocks import Block

from rasd.models import StoryArticle, TermHit
from rasd.notify.messages.slack import (
    BLOCKS_MAX,
    FIELD_MAX,
    FIELDS_MAX,
    HEADER_MAX,
    SECTION_MAX,
    problems,
    slack_payload,
)

TITLE = "عاجل: قصف صاروخي يستهدف قاعدة عين الأسد الجوية غرب العراق ومصادر تتحدث عن إصابات "
# An Al Jazeera-style link: the Arabic slug percent-encoded, ~460 characters.
SLUG = quote("قصف-صاروخي-يستهدف-قاعدة-عين-الأسد-الجوية-غرب-العراق-ومصادر-تتحدث-عن-إصابات")
URL = f"https://www.aljazeera.net/news/2026/3/14/{SLUG}?utm_source=rss&utm_medium=feed"


def report(i: int, title: str, url: str = URL, outlet: str = "الجزيرة نت") -> StoryArticle:
    return StoryArticle(
        article_id=f"a{i}", outlet=outlet, title=title, url=url, lang="ar", summary=title * 20
    )


def worst(title: str = TITLE * 12, reports: int = 40, **changes):
    fields = dict(
        title=title,
        articles=tuple(report(i, title, outlet=f"outlet {i} " + "&" * 70) for i in range(reports)),
        terms=tuple(
            TermHit(term="t", field="title", start=0, end=1, text=f"{i}" + "صاروخي&" * 12)
            for i in range(40)
        ),
        places=tuple(f"place-{i}-" + "x" * 50 for i in range(60)),
    )
    fields.update(changes)
    return arabic_alert(**fields)


def limits_broken(payload: dict) -> list[str]:
    """The same limits as problems(), counted here independently of the production code."""
    broken = []
    blocks = payload["blocks"]
    if len(blocks) > BLOCKS_MAX:
        broken.append(f"{len(blocks)} blocks")
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk raises past a limit it knows
        text = block.get("text", {}).get("text", "")
        if block["type"] == "header" and len(text) > HEADER_MAX:
            broken.append(f"header of {len(text)}")
        if block["type"] == "section" and len(text) > SECTION_MAX:
            broken.append(f"section of {len(text)}")
        fields = block.get("fields") or []
        if len(fields) > FIELDS_MAX:
            broken.append(f"{len(fields)} fields")
        broken += [f"field of {len(f['text'])}" for f in fields if len(f["text"]) > FIELD_MAX]
        for element in block.get("elements") or []:
            if len(element.get("text", "")) > 3000:
                broken.append(f"context of {len(element['text'])}")
    return broken


def test_the_sample_url_is_as_long_as_al_jazeeras():
    assert 440 <= len(URL) <= 520


CASES = {
    "five arabic reports with long urls": [
        arabic_alert(articles=tuple(report(i, TITLE) for i in range(5)))
    ],
    "longest titles, many reports, outlets, places, terms": [worst()],
    "text that grows fivefold when escaped": [
        worst(title="&<>" * 400, articles=tuple(report(i, "&" * 1000) for i in range(30)))
    ],
    "urls past the link limit": [
        worst(articles=tuple(report(i, TITLE, url=URL + "x" * 1500) for i in range(8)))
    ],
    "a group of thirty worst alerts": [worst(key=f"k{i}") for i in range(30)],
    "a group of mixed alerts": [worst(key="a"), english_alert(), arabic_alert(key="b")],
}


@pytest.mark.parametrize("alerts", CASES.values(), ids=CASES.keys())
def test_every_message_fits_block_kit(alerts):
    payload = slack_payload(alerts)
    assert limits_broken(payload) == []
    assert problems(payload) == []
    # Nothing was given up: the full message was built, not the plain fall-back.
    assert len(payload["blocks"]) > 1


def test_reports_that_do_not_fit_are_counted_not_cut():
    payload = slack_payload([worst(title=TITLE, reports=40)])
    text = payload["blocks"][1]["text"]["text"]
    links = text.count("<https://")
    assert 1 <= links < 40
    assert text.endswith(f"…and {40 - links} more reports")
    assert text.count("<") == text.count(">")  # no link cut in half


def test_a_url_past_the_link_limit_shows_the_outlet_unlinked():
    payload = slack_payload([arabic_alert(articles=(report(0, TITLE, url=URL + "x" * 1500),))])
    text = payload["blocks"][1]["text"]["text"]
    assert "https://" not in text and "الجزيرة نت" in text


def test_problems_sees_what_slack_would_refuse():
    payload = slack_payload([arabic_alert()])
    payload["blocks"][1]["text"]["text"] = "x" * 3001
    payload["blocks"][2]["fields"][0]["text"] = "y" * 2001
    payload["blocks"] += [{"type": "divider"}] * 50
    found = problems(payload)
    assert len(found) == 3
    assert found[0] == "54 blocks (at most 50)"
