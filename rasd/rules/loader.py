"""Load rule files: every error at once, each with file:line:column, good rules kept.

YAML is composed into nodes first (they carry line and column), then each rule is validated;
a pydantic error location (``match.all.0.any``) is walked down the node tree to the line and
column a person should look at.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from rasd.rules.directory import duplicate_ids, rule_file_names
from rasd.rules.schema import Rule, RuleSpec
from rasd.yamlerrors import ConfigError, ConfigInvalid, error_at, load, located, node_at

MAX_FILE_BYTES = 1_000_000


# The rules API's name for an error in a rule file (path, line, column, message).
RuleError = ConfigError


@dataclass
class LoadResult:
    rules: list[Rule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def extend(self, other: LoadResult) -> None:
        self.rules.extend(other.rules)
        self.errors.extend(other.errors)


def _describe(error: dict, allowed: Sequence[str]) -> str:
    loc = ".".join(str(p) for p in error["loc"] if p not in ("term", "group"))
    where = f"{loc}: " if loc else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        hint = difflib.get_close_matches(key, allowed, n=1)
        return f"unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
    if kind == "missing":
        return f"missing required key {str(error['loc'][-1])!r}"
    if kind == "too_short" and error.get("ctx", {}).get("min_length") == 1:
        return f"{where}must not be empty"
    if kind == "string_pattern_mismatch":
        return (
            f"{where}{error['input']!r} is not a valid name: use lowercase letters, digits and "
            "dashes (like rocket-attack)"
        )
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}{message}"


def _allowed_keys(loc: Sequence[int | str]) -> list[str]:
    from rasd.rules.schema import Condition, Escalate, Near

    names = {"match": Condition, "escalate": Escalate, "near": Near}
    model = RuleSpec
    for part in loc[:-1]:
        if part in ("any", "all", "none"):
            model = Condition
        elif isinstance(part, str) and part in names:
            model = names[part]
    return list(model.model_fields)


def _validate(path: str, node: yaml.Node, data: object) -> tuple[Rule | None, list[RuleError]]:
    if not isinstance(data, dict):
        message = "a rule must be a mapping with keys id, title, match, ..."
        return None, [error_at(path, node, message)]
    try:
        spec = RuleSpec.model_validate(data)
    except ValidationError as exc:
        errors = [
            error_at(path, target, _describe(err, _allowed_keys(err["loc"])))
            for err, target in located(exc, node)
        ]
        return None, errors
    return Rule.from_spec(spec, path), []


def parse_rules(text: str, path: str) -> LoadResult:
    """Validate one file's YAML text (one rule or a list of rules).

    >>> result = parse_rules("id: x\\ntitle: X\\nmatch: {any: [rocket]}\\n", "x.yaml")
    >>> [r.id for r in result.rules], result.errors
    (['x'], [])
    """
    result = LoadResult()
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        result.errors.append(RuleError(path, 1, 1, f"file is larger than {MAX_FILE_BYTES} bytes"))
        return result
    try:
        # Rule files are edited in the console: no alias may expand into a bomb.
        document = load(text, path, aliases=False)
    except ConfigInvalid as exc:
        result.errors.extend(exc.errors)
        return result
    node, data = document.root, document.data
    if node is None:
        result.errors.append(RuleError(path, 1, 1, "file is empty; expected a rule or a list"))
        return result
    if isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        items = list(zip(node.value, data, strict=True))
        if not items:
            result.errors.append(error_at(path, node, "the list of rules is empty"))
    else:
        items = [(node, data)]
    seen: dict[str, yaml.Node] = {}
    for item_node, item in items:
        rule, errors = _validate(path, item_node, item)
        result.errors.extend(errors)
        if rule is None:
            continue
        id_node = node_at(item_node, ["id"])
        if rule.id in seen:
            first = seen[rule.id].start_mark.line + 1
            message = f"duplicate rule id {rule.id!r} (first at line {first})"
            result.errors.append(error_at(path, id_node, message))
            continue
        seen[rule.id] = id_node
        result.rules.append(rule)
    return result


def load_rules(directory: Path) -> LoadResult:
    """Every rule file under ``directory`` (see :mod:`rasd.rules.directory`); duplicate ids
    across files are errors.

    A bad file never hides good ones: its errors are listed and the other files' rules kept.
    """
    directory = Path(directory)
    result = LoadResult()
    if not directory.is_dir():
        result.errors.append(RuleError(str(directory), 1, 1, "not a directory"))
        return result
    files: dict[str, tuple[str, LoadResult]] = {}
    for name in rule_file_names(directory):
        path = str(directory / name)
        try:
            text = (directory / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.errors.append(RuleError(path, 1, 1, f"cannot read the file: {exc}"))
            continue
        files[path] = (text, parse_rules(text, path))
    duplicates = duplicate_ids(files)
    for path, (_text, loaded) in files.items():
        result.errors.extend(loaded.errors)
        repeated = duplicates.get(path, {})
        result.errors.extend(repeated.values())
        result.rules.extend(r for r in loaded.rules if r.id not in repeated)
    return result
