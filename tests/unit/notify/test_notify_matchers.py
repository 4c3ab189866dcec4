"""The one matcher language of routes, silences and inhibitions, on RE2."""

import time

import pytest
from notify_samples import arabic_alert, english_alert

from rasd.notify.matchers import Matcher, alert_labels

M = Matcher.parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("severity>=high", True),
        ("severity>high", False),
        ("severity<=high", True),
        ("severity<critical", True),
        ("severity=~high|critical", True),
        ('title=~".*عين الأسد.*"', True),
        ('title="قصف"', False),
        ("outlets=Reuters", True),
        ("outlets!~Al.*", True),
        ("story=rocket-attack:story-1", True),
        ("places=~ira.", True),
        ('tags=""', False),
    ],
)
def test_matchers_on_the_label_view(text, expected):
    assert M(text).matches(arabic_alert()) is expected


def test_an_absent_label_is_the_empty_value():
    untagged = english_alert(tags=())
    assert M('tags=""').matches(untagged)
    assert M("tags!=protest").matches(untagged)
    assert not M("tags=~.+").matches(untagged)


def test_an_escalations_story_label_is_the_stories_it_counts():
    escalation = arabic_alert(key="esc", kind="escalation", stories=("s1", "s2"))
    assert alert_labels(escalation)["story"] == ("s1", "s2")
    assert M("story=s2").matches(escalation)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour=red", "unknown label 'colour'; known: key, kind"),
        ("palces=iraq", "did you mean 'places'"),
        ("severity=urgent", "unknown severity 'urgent'"),
        ("rule>=x", ">= compares severities only"),
        ("kind=story", "unknown kind 'story'"),
        ("title=~(unclosed", "invalid regular expression"),
        (r"title=~(a)\1", "invalid regular expression"),  # needs backtracking: refused
        ("title=~(?=x)", "invalid regular expression"),
        ("rule", "expected label=value"),
        ("title=~" + "a" * 1001, "longer than 1000"),
    ],
)
def test_bad_matchers_say_why(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        M(text)


def test_quoted_values_round_trip():
    matcher = M(r'title="say \"hi\" \\ there"')
    assert matcher.value == 'say "hi" \\ there'
    assert M(str(matcher)) == matcher
    assert str(M("rule=rocket-attack")) == "rule=rocket-attack"


def test_a_pathological_pattern_runs_in_linear_time():
    # Catastrophic for a backtracking engine (Python's re takes minutes on this input).
    matcher = M("title=~(a+)+$")
    alert = english_alert(title="a" * 5000 + "!")
    started = time.perf_counter()
    assert not matcher.matches(alert)
    # Not a timing test of speed: an upper bound orders of magnitude above RE2's time, far
    # below a backtracking engine's.
    assert time.perf_counter() - started < 1.0
