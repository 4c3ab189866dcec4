"""How alerts read in Slack and email: exact payloads, Arabic direction, hostile text."""

import json
from email import message_from_bytes, policy

from notify_samples import TITLE_AR, arabic_alert, english_alert

from rasd.models import StoryArticle
from rasd.notify.messages.email import email_message, html_body, subject, text_body
from rasd.notify.messages.slack import problems, slack_payload
from rasd.notify.messages.text import PDI, RLI, RLM, clean, header_safe, isolate, safe_url

HOSTILE = "<!channel> @here & <@U123> <https://evil.example|click> \u202eevil\u202c *bold*"


SUMMARY_AR = "أفادت مصادر أمنية بسقوط صواريخ على القاعدة دون وقوع إصابات"


def test_slack_payload_for_an_arabic_alert_is_exactly_block_kit():
    first = arabic_alert().articles[0].model_copy(update={"summary": SUMMARY_AR})
    alert = arabic_alert(
        articles=(first, arabic_alert().articles[1]), places=("k1", "kirkuk", "nowhere")
    )
    title = f"{RLI}{TITLE_AR}{PDI}"
    assert slack_payload([alert]) == {
        "text": f"[rasd][high] {TITLE_AR}",
        "blocks": [
            # The title once: in the header, not again in the sections or the first report.
            {"type": "header", "text": {"type": "plain_text", "text": f"[HIGH] {title}"}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        f"{RLM}{RLI}{SUMMARY_AR}{PDI}\n"
                        f"*Outlets:* {RLI}الجزيرة{PDI} · Reuters\n"
                        # Names in the alert's language; an id the gazetteer lacks stays.
                        f"*Places:* {RLI}كي وان{PDI}, {RLI}كركوك{PDI}, nowhere\n"
                        f"{RLM}• <https://www.aljazeera.net/news/2026/3/14/qasf|"
                        f"{RLI}الجزيرة{PDI}>\n"
                        "• <https://www.reuters.com/world/middle-east/rockets-ain-al-asad?a=1&amp;b=2|"
                        "Reuters: Rockets hit Ain al-Asad air base in western Iraq>"
                    ),
                },
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Rule*\n`rocket-attack`"},
                    {
                        "type": "mrkdwn",
                        "text": "*Time*\n<!date^1773480600^{date_short_pretty} {time}"
                        "|2026-03-14 09:30 UTC>",
                    },
                    {"type": "mrkdwn", "text": f"*Terms*\n{RLI}صاروخي{PDI}"},
                ],
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        # The ids, for machines and silences, in matcher syntax.
                        "text": "`rule=rocket-attack` · `key=rocket-attack:story-1`"
                        " · `places=k1,kirkuk,nowhere`",
                    }
                ],
            },
        ],
    }
    assert problems(slack_payload([alert])) == []


def test_an_english_alert_names_places_in_english():
    payload = slack_payload([english_alert(places=("k1", "kirkuk", "iraq"))])
    assert "*Places:* K1, Kirkuk, Iraq" in payload["blocks"][1]["text"]["text"]


def test_slack_neutralises_mentions_and_markup_from_feed_text():
    alert = arabic_alert(
        title=HOSTILE,
        articles=(
            StoryArticle(article_id="x", outlet="@channel", title=HOSTILE, url="javascript:x"),
        ),
    )
    payload = slack_payload([alert])
    text = json.dumps(payload, ensure_ascii=False)
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text
    assert "@here" not in text and "@\u2060here" in text and "@\u2060channel" in text
    assert "\u202e" not in text  # the feed's right-to-left override is dropped
    assert "javascript:" not in text  # not made into a link


def test_slack_groups_many_alerts_into_one_capped_message():
    alerts = [english_alert(key=f"k{i}") for i in range(14)] + [arabic_alert()]
    payload = slack_payload(alerts)
    assert payload["blocks"][0]["text"]["text"] == "[HIGH] 15 alerts, worst high"
    assert payload["text"].endswith("(+14 more)")
    assert payload["blocks"][-1]["elements"][0]["text"] == "…and 5 more alerts in this group"
    assert len(payload["blocks"]) <= 50  # Slack's limit


def test_email_subject_is_one_line_whatever_the_title():
    alert = english_alert(title="Breaking\r\nBcc: victim@example.org\n\u202etxt.exe")
    assert subject([alert]) == "[rasd][medium] Breaking Bcc: victim@example.org txt.exe"
    message = email_message([alert], sender="rasd@example.org", to=["desk@example.org"])
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "[rasd][medium] Breaking Bcc: victim@example.org txt.exe"


def test_email_leads_with_title_summary_outlets_and_place_names():
    first = arabic_alert().articles[0].model_copy(update={"summary": SUMMARY_AR + " <b>&</b>"})
    alert = arabic_alert(articles=(first,), places=("k1", "kirkuk"))
    text = text_body([alert])
    assert text.splitlines()[:4] == [
        f"[HIGH] {TITLE_AR}",
        f"{SUMMARY_AR} <b>&</b>",
        "Outlets: الجزيرة",
        "Places: كي وان, كركوك",
    ]
    assert text.count(TITLE_AR) == 1
    assert "Ids: rule=rocket-attack  key=rocket-attack:story-1  places=k1,kirkuk" in text
    html = html_body([alert])
    assert f"<bdi>{SUMMARY_AR} &lt;b&gt;&amp;&lt;/b&gt;</bdi>" in html
    assert "<p>Places: <bdi>كي وان</bdi>, <bdi>كركوك</bdi></p>" in html
    assert html.count(TITLE_AR) == 2  # the page's <title> and its heading


def test_email_is_multipart_text_and_rtl_html():
    message = email_message([arabic_alert()], sender="rasd@example.org", to=["desk@example.org"])
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert text.startswith(f"[HIGH] {TITLE_AR}\nOutlets: الجزيرة · Reuters\nPlaces: العراق\n")
    assert text.count(TITLE_AR) == 1  # the title once
    assert '<html lang="ar" dir="rtl">' in html
    assert f"<bdi>{TITLE_AR}</bdi>" in html
    assert (
        'href="https://www.reuters.com/world/middle-east/rockets-ain-al-asad?a=1&amp;b=2"' in html
    )


def test_email_escapes_feed_html():
    alert = english_alert(title='<script>alert(1)</script> & "x"')
    html = html_body([alert])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in html
    assert '<html lang="en" dir="ltr">' in html
    # Plain text is not markup: the title is carried as it is, minus control characters.
    assert text_body([alert]).startswith('[MEDIUM] <script>alert(1)</script> & "x"\n')


def test_text_helpers():
    assert clean("  a\u202e b\x00\nc  ") == "a b c"
    assert clean("x" * 400, 10) == "xxxxxxxxx…"
    assert isolate("Reuters") == "Reuters"
    assert isolate("قصف") == f"{RLI}قصف{PDI}"
    assert isolate("AP: قصف") == f"\u2068AP: قصف{PDI}"
    assert safe_url("https://a.example/x|y>z") == "https://a.example/x%7Cy%3Ez"
    assert safe_url("javascript:alert(1)") is None
    assert header_safe("a\r\nb\u2028c") == "a b c"
