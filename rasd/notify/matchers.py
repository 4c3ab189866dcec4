"""One matcher language for routes, silences and inhibitions, over one label view of an alert.

A matcher is ``label op value``, as in Alertmanager:

- ``=`` / ``!=``: the label has (has not) this value;
- ``=~`` / ``!~``: a value matches (none matches) the regular expression, anchored at both ends;
- ``>=``, ``>``, ``<=``, ``<``: for ``severity`` only, in the order info < low < medium < high
  < critical.

The value may be written in double quotes (``title=~".*قصف.*"``, with ``\\"`` and ``\\\\``
inside). Labels with several values (``tags``, ``places``, ``outlets``, ``story``) match when
one of them does; ``!=`` and ``!~`` hold when none does. A label with no value is the empty
string, so ``tags=""`` matches alerts without tags.

Regular expressions run on RE2 (google-re2): linear time whatever the pattern, so a pattern
typed in the console cannot stall the notifier; back-references and look-arounds, which need
backtracking, are refused when the matcher is parsed.

>>> Matcher.parse("severity>=high").matches(alert)
True
>>> Matcher.parse("places=~kirkuk|k1")
Matcher(name='places', op='=~', value='kirkuk|k1')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from typing import Annotated, Any, Literal

import re2
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from rasd.models import Alert, Severity
from rasd.notify.receivers import did_you_mean

Label = Literal["rule", "severity", "kind", "tags", "places", "outlets", "story", "key", "title"]
LABELS: tuple[str, ...] = Label.__args__
Op = Literal["=", "!=", "=~", "!~", ">=", ">", "<=", "<"]
ORDERED_OPS = (">=", ">", "<=", "<")
KINDS = ("match", "escalation")
MAX_PATTERN = 1000

_MATCHER = re.compile(
    r'^\s*([A-Za-z_]+)\s*(=~|!~|!=|>=|<=|=|>|<)\s*("(?:[^"\\]|\\.)*"|.*?)\s*$', re.DOTALL
)
_RE2 = re2.Options()
_RE2.log_errors = False  # RE2 would print every refused pattern on stderr
_RE2.max_mem = 8 << 20  # a pattern whose automaton needs more is refused, not run slowly


def alert_labels(alert: Alert) -> dict[str, tuple[str, ...]]:
    """An alert's values per label: the one view routes, silences and inhibitions match on.

    ``story`` is the event an alert is about: a story alert's own key; for an escalation, the
    keys of the stories it counts (so an inhibition with ``equal: [story]`` reaches them).
    """
    story = (alert.key,) if alert.kind == "match" else alert.stories
    return {
        "rule": (alert.rule,),
        "severity": (alert.severity.value,),
        "kind": (alert.kind,),
        "tags": alert.tags,
        "places": alert.places,
        "outlets": tuple(dict.fromkeys(a.outlet for a in alert.articles)),
        "story": story,
        "key": (alert.key,),
        "title": (alert.title,),
    }


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def compile_regex(pattern: str):
    """An RE2 pattern matched in full, or ValueError saying why it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"regular expression longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, _RE2)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(f"invalid regular expression {pattern!r}: {reason}") from None


class Matcher(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Label
    op: Op = "="
    value: str

    @model_validator(mode="after")
    def _valid(self) -> Matcher:
        if self.op in ("=~", "!~"):
            compile_regex(self.value)
        elif self.op in ORDERED_OPS and self.name != "severity":
            raise ValueError(f"{self.op} compares severities only, not {self.name}")
        plain = self.op not in ("=~", "!~") and self.value
        if self.name == "severity" and plain and self.value not in Severity.__members__:
            raise ValueError(
                f"unknown severity {self.value!r}; one of {', '.join(Severity.__members__)}"
            )
        if self.name == "kind" and self.op in ("=", "!=") and self.value not in (*KINDS, ""):
            raise ValueError(f"unknown kind {self.value!r}; one of {', '.join(KINDS)}")
        return self

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``rule=rocket-attack``, ``places!=syria``, ``severity>=high``, ``title=~".*قصف.*"``."""
        found = _MATCHER.match(text)
        if not found:
            raise ValueError(
                f"expected label=value, label!=value, label=~regex or label!~regex: {text!r}"
            )
        name, op, value = found.groups()
        if name not in LABELS:
            raise ValueError(f"unknown label {name!r}" + did_you_mean(name, LABELS))
        try:
            return cls(name=name, op=op, value=_unquote(value))
        except ValueError as exc:
            errors = getattr(exc, "errors", None)
            message = errors()[0]["msg"] if errors else str(exc)
            raise ValueError(message.removeprefix("Value error, ")) from None

    @cached_property
    def _regex(self):
        return compile_regex(self.value)

    def _hit(self, values: tuple[str, ...]) -> bool:
        if self.op in ("=", "!="):
            return self.value in values
        if self.op in ("=~", "!~"):
            return any(self._regex.fullmatch(v) for v in values)
        rank, wanted = Severity(values[0]).rank, Severity(self.value).rank
        return {">=": rank >= wanted, ">": rank > wanted, "<=": rank <= wanted, "<": rank < wanted}[
            self.op
        ]

    def matches_labels(self, labels: dict[str, tuple[str, ...]]) -> bool:
        values = labels[self.name] or ("",)
        hit = self._hit(values)
        return not hit if self.op in ("!=", "!~") else hit

    def matches(self, alert: Alert) -> bool:
        return self.matches_labels(alert_labels(alert))

    def __str__(self) -> str:
        value = self.value
        if not value or value != value.strip() or '"' in value:
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{self.name}{self.op}{value}"


def all_match(matchers: Iterable[Matcher], labels: dict[str, tuple[str, ...]]) -> bool:
    return all(m.matches_labels(labels) for m in matchers)


def _parse_one(value: Any) -> Any:
    return Matcher.parse(value) if isinstance(value, str) else value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# In YAML: a list of matcher strings (each error is reported at its own item), or one string.
Matchers = Annotated[
    tuple[Annotated[Matcher, BeforeValidator(_parse_one)], ...], BeforeValidator(_as_list)
]
