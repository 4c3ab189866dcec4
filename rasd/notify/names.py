"""The receivers rules name in ``notify:`` must exist in receivers.yaml: checked where the names
are written (``rasd rules check``, the console's rule editor) and where they are used
(``rasd notify run`` / ``check``), each unknown name reported at its file:line:column.

The receivers file is ``RASD_RECEIVERS_FILE`` (``receivers.yaml``) unless a command is given
``--receivers``. Without it the names cannot be checked; the callers say so rather than fail.

>>> unknown_receivers(load_rules(Path("rules")).rules, {"iraq-desk"})
[]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from rasd.notify.receivers import did_you_mean
from rasd.rules.directory import rule_node
from rasd.yamlerrors import ConfigError, error_at, node_at


def receiver_names(path: Path) -> list[str]:
    """The receivers ``path`` defines; ConfigInvalid (located errors) when it is invalid."""
    from rasd.notify.config import load_config

    return load_config(path).names


def unknown_receivers(
    rules: Iterable,
    names: Collection[str],
    read: Callable[[str], str | None] | None = None,
) -> list[ConfigError]:
    """An error for every ``notify:`` name of ``rules`` that ``names`` does not hold.

    ``rules`` are :class:`rasd.rules.Rule` objects; their ``source`` is the file they came
    from, read with ``read`` (default: from disk) to find the name's line and column.
    """
    read = read or _read
    errors = []
    for rule in rules:
        missing = [(i, name) for i, name in enumerate(rule.notify) if name not in names]
        if not missing:
            continue
        text = read(rule.source)
        item = rule_node(text, rule.id) if text is not None else None
        for index, name in missing:
            node = node_at(item, ["notify", index]) if item is not None else None
            known = did_you_mean(name, names) if names else "; receivers.yaml defines none"
            message = f"rule {rule.id!r}: unknown receiver {name!r} in notify" + known
            errors.append(error_at(rule.source, node, message))
    return errors


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
