"""Map pydantic validation errors back to the YAML line and column they came from.

>>> errors = validation_errors(exc, compose(text, "receivers.yaml"), "receivers.yaml")
>>> str(errors[0])
'receivers.yaml:4:5: extra inputs are not permitted (receivers.0.slack.urll)'
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from pydantic import ValidationError


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


def compose(text: str, path: str) -> yaml.Node | None:
    """The YAML node tree (which keeps positions), or ConfigInvalid for a syntax error."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigInvalid([ConfigError(path, line, column, str(exc.problem))]) from None


def duplicate_keys(node: yaml.Node | None, path: str) -> list[ConfigError]:
    """YAML lets a repeated key silently replace the first one; we refuse it."""
    errors: list[ConfigError] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    line, column = key.start_mark.line + 1, key.start_mark.column + 1
                    errors.append(ConfigError(path, line, column, f"duplicate key {key.value!r}"))
                seen.add(key.value)
            errors.extend(duplicate_keys(value, path))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            errors.extend(duplicate_keys(item, path))
    return errors


def locate(root: yaml.Node | None, loc: tuple, *, key: bool = False) -> tuple[int, int]:
    """Line and column (1-based) of the deepest node on a pydantic error location.

    Location parts that are not in the document (a discriminated union's tag, for example)
    are skipped. With ``key``, the last part's key is pointed at rather than its value (for
    an unknown key).
    """
    node = root
    best = node
    for index, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            found = next(
                (
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part)
                ),
                None,
            )
            if found is None:
                continue
            node = found[1]
            best = found[0] if key and index == len(loc) - 1 else node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = best = node.value[part]
    if best is None:
        return 1, 1
    return best.start_mark.line + 1, best.start_mark.column + 1


def validation_errors(exc: ValidationError, root: yaml.Node | None, path: str) -> list[ConfigError]:
    errors = []
    for error in exc.errors(include_url=False):
        line, column = locate(root, tuple(error["loc"]), key=error["type"] == "extra_forbidden")
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"][0].lower() + error["msg"][1:]
        errors.append(ConfigError(path, line, column, f"{message} ({where})" if where else message))
    return errors
