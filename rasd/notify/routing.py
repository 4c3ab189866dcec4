"""Which receivers an alert goes to, and in which group, as in Alertmanager's route tree.

An alert enters at the root and descends: the first child whose ``match`` holds takes it
(further siblings are tried only if that child has ``continue: true``); a route none of
whose children match delivers to its own receiver. Settings not given on a route are
inherited from its parent. The receivers the rule itself names (``Alert.notify``) are added
with the root route's grouping, unless the tree already sends there.

>>> router = Router(config.route)
>>> [(r.path, r.receiver) for r in router.route(alert)]
[('0.1', 'iraq-desk'), ('rule', 'oncall')]
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta

from rasd.models import Alert
from rasd.notify.config import GroupLabel, RootRoute, Route
from rasd.notify.matchers import alert_labels, all_match


@dataclass(frozen=True)
class ResolvedRoute:
    """A route with everything inherited filled in. ``path`` names it in logs and keys."""

    path: str
    receiver: str
    group_by: tuple[GroupLabel, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta

    def group_labels(self, alert: Alert) -> dict[str, str]:
        return group_labels(alert, self.group_by)

    def group_id(self, alert: Alert) -> str:
        """Stable id of the group this alert joins on this route (safe in Redis keys)."""
        labels = [f"{k}={v}" for k, v in self.group_labels(alert).items()]
        text = "\x1f".join([self.path, self.receiver, *labels])
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def group_labels(alert: Alert, group_by: tuple[GroupLabel, ...]) -> dict[str, str]:
    values = alert_labels(alert)
    return {label: ",".join(sorted(values[label])) for label in group_by}


def _resolve(route: Route, parent: ResolvedRoute, path: str) -> ResolvedRoute:
    def pick(name: str):
        own = getattr(route, name)
        return getattr(parent, name) if own is None else own

    return ResolvedRoute(
        path=path,
        receiver=pick("receiver"),
        group_by=pick("group_by"),
        group_wait=pick("group_wait"),
        group_interval=pick("group_interval"),
        repeat_interval=pick("repeat_interval"),
    )


class Router:
    def __init__(self, root: RootRoute) -> None:
        self.root = root
        self.resolved_root = ResolvedRoute(
            "0",
            root.receiver,
            root.group_by,
            root.group_wait,
            root.group_interval,
            root.repeat_interval,
        )

    def _descend(self, route: Route, resolved: ResolvedRoute, labels: dict) -> list[ResolvedRoute]:
        found: list[ResolvedRoute] = []
        for index, child in enumerate(route.routes):
            if not all_match(child.matchers, labels):
                continue
            found.extend(
                self._descend(child, _resolve(child, resolved, f"{resolved.path}.{index}"), labels)
            )
            if not child.continue_:
                break
        return found or [resolved]

    def route(self, alert: Alert) -> list[ResolvedRoute]:
        """Where ``alert`` goes: at most one route per receiver, tree order first."""
        destinations: dict[str, ResolvedRoute] = {}
        for resolved in self._descend(self.root, self.resolved_root, alert_labels(alert)):
            destinations.setdefault(resolved.receiver, resolved)
        for name in alert.notify:
            destinations.setdefault(name, replace(self.resolved_root, path="rule", receiver=name))
        return list(destinations.values())
