"""The rules directory: which files are rule files, and rule ids defined by two of them.

One answer for every part that reads the directory (the loader, the workers' hot reload and
the console's editor): ``*.yaml`` and ``*.yml`` files below it, except hidden files and
editor backups or lock files (any part of the path starting with ``.`` or ``~``), in sorted
order. A rule id may be defined by one file only; the later file (in that order) is wrong.

>>> is_rule_file_name("air/strike.yaml"), is_rule_file_name("air/.strike.yaml")
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import yaml

from rasd.yamlerrors import ConfigError, error_at, node_at

if TYPE_CHECKING:
    from rasd.rules.loader import LoadResult

SUFFIXES = (".yaml", ".yml")


def is_rule_file_name(name: str) -> bool:
    """Whether a path relative to the directory names a rule file (no check of existence)."""
    pure = PurePosixPath(name)
    return (
        bool(name)
        and not pure.is_absolute()
        and ".." not in pure.parts
        and pure.suffix in SUFFIXES
        and not any(part.startswith((".", "~")) for part in pure.parts)
    )


def rule_file_names(directory: Path) -> list[str]:
    """The rule files below ``directory`` as sorted relative POSIX paths ([] if it is none)."""
    if not directory.is_dir():
        return []
    return sorted(
        name
        for path in directory.rglob("*")
        if is_rule_file_name(name := path.relative_to(directory).as_posix()) and path.is_file()
    )


def duplicate_ids(
    files: Mapping[str, tuple[str, LoadResult]],
) -> dict[str, dict[str, ConfigError]]:
    """For each file (path -> (text, its parsed rules), in the mapping's order), the rule ids
    an earlier file already defines, each with its error. Files without any are left out."""
    first: dict[str, str] = {}
    found: dict[str, dict[str, ConfigError]] = {}
    for path, (text, loaded) in files.items():
        for rule in loaded.rules:
            if rule.id in first and first[rule.id] != path:
                message = f"duplicate rule id {rule.id!r} (also in {first[rule.id]})"
                error = error_at(path, _id_node(text, rule.id), message)
                found.setdefault(path, {})[rule.id] = error
            else:
                first.setdefault(rule.id, path)
    return found


def rule_node(text: str, rule_id: str) -> yaml.Node | None:
    """The mapping node of rule ``rule_id`` in a rule file's text (None if not found)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    items = root.value if isinstance(root, yaml.SequenceNode) else [root]
    for item in items:
        node = node_at(item, ["id"])
        if isinstance(node, yaml.ScalarNode) and node.value == rule_id:
            return item
    return None


def _id_node(text: str, rule_id: str) -> yaml.Node | None:
    item = rule_node(text, rule_id)
    return None if item is None else node_at(item, ["id"])
