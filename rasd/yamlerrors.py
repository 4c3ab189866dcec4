"""YAML a person writes, loaded one way: errors located as ``file:line:column: message``.

Every part that reads such a file (feeds.yaml, receivers.yaml, rule files) loads it with
:func:`load`: the text is composed once into nodes, which keep their line and column,
repeated keys are refused (YAML would let the last one silently win), and the data is
constructed from those same nodes. A pydantic error location (``receivers.0.slack.urll``) is
then walked down the nodes (:func:`node_at`) to the place a person should look at.

>>> try:
...     load("feeds: []\\nfeeds: [x]\\n", "feeds.yaml")
... except ConfigInvalid as exc:
...     print(exc)
feeds.yaml:2:1: duplicate key 'feeds'

>>> root = compose("receivers:\\n  - {name: a, urll: x}\\n", "receivers.yaml")
>>> str(error_at("receivers.yaml", node_at(root, ("receivers", 0, "urll"), key=True), "?"))
'receivers.yaml:2:15: ?'
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails


@dataclass(frozen=True)
class ConfigError:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class ConfigInvalid(Exception):
    """A configuration file with one or more errors; ``str()`` lists them all, one a line."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def position(node: yaml.Node | None) -> tuple[int, int]:
    """Line and column (1-based) of a node; 1:1 when there is none (an empty document)."""
    if node is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def error_at(path: str, node: yaml.Node | None, message: str) -> ConfigError:
    return ConfigError(path, *position(node), message)


def syntax_error(exc: yaml.YAMLError, path: str, prefix: str = "") -> ConfigError:
    """Where PyYAML found a problem and what it was."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    return ConfigError(path, line, column, prefix + problem)


def compose(text: str, path: str) -> yaml.Node | None:
    """The YAML node tree (which keeps positions), or ConfigInvalid for a syntax error."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        # The reader reports a character offset, not a mark.
        before = text[: exc.position]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        message = f"character #x{exc.character:04x} is not allowed in YAML"
        raise ConfigInvalid([ConfigError(path, line, column, message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigInvalid([syntax_error(exc, path, "invalid YAML: ")]) from None


@dataclass(frozen=True)
class Document:
    """A loaded file: its node tree (None when empty) and the data built from it."""

    root: yaml.Node | None
    data: object


def load(text: str, path: str, *, aliases: bool = True) -> Document:
    """Compose, check and construct ``text``; ConfigInvalid with every problem found.

    ``aliases=False`` refuses ``*name`` before anything is built: a few lines of nested
    aliases ("billion laughs") expand to billions of items for validation.
    """
    if not aliases:
        _refuse_aliases(text, path)
    root = compose(text, path)
    repeated = duplicate_keys(root)
    if repeated:
        raise ConfigInvalid([error_at(path, k, f"duplicate key {k.value!r}") for k in repeated])
    if root is None:
        return Document(None, None)
    loader = yaml.SafeLoader("")
    try:
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:  # e.g. a tag the safe loader refuses to construct
        raise ConfigInvalid([syntax_error(exc, path, "invalid YAML: ")]) from None
    finally:
        loader.dispose()
    return Document(root, data)


def _refuse_aliases(text: str, path: str) -> None:
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken):
                line, column = token.start_mark.line + 1, token.start_mark.column + 1
                message = f"YAML aliases (*{token.value}) are not allowed here; repeat the value"
                raise ConfigInvalid([ConfigError(path, line, column, message)])
    except yaml.YAMLError:
        return  # compose reports it, with its position


def duplicate_keys(node: yaml.Node | None) -> list[yaml.ScalarNode]:
    """Every repeated mapping key after its first; YAML would let it silently win."""
    repeated: list[yaml.ScalarNode] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    repeated.append(key)
                seen.add(key.value)
            repeated.extend(duplicate_keys(value))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            repeated.extend(duplicate_keys(item))
    return repeated


def node_at(
    root: yaml.Node | None, loc: Sequence[int | str], *, key: bool = False
) -> yaml.Node | None:
    """The deepest node on a pydantic error location.

    Location parts that are not in the document (a discriminated union's tag, for example)
    are skipped. With ``key``, the last part's key is pointed at rather than its value (for
    an unknown key).
    """
    node = root
    for index, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            found = next(
                (
                    (key_node, value)
                    for key_node, value in node.value
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part)
                ),
                None,
            )
            if found is None:
                continue
            if key and index == len(loc) - 1:
                return found[0]
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
    return node


def located(
    exc: ValidationError, root: yaml.Node | None
) -> Iterator[tuple[ErrorDetails, yaml.Node | None]]:
    """Each error pydantic found in data built from ``root``, with the node to point at: the
    unknown key itself for ``extra_forbidden``, else the deepest node of its location (the
    mapping that lacks a missing key). A list whose every item failed is also reported as too
    short: that echo is left out. Callers word the message (each file has its own hints).
    """
    raw = exc.errors(include_url=False)
    for error in raw:
        loc = error["loc"]
        if error["type"] == "too_short" and any(
            len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in raw
        ):
            continue
        yield error, node_at(root, loc, key=error["type"] == "extra_forbidden")
