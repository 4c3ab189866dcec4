"""receivers.yaml: the receivers, the routing tree and the delivery knobs, validated once.

Each receiver's ``type:`` selects its own config model (a discriminated union over the
receiver registry, unknown keys refused). Every error in the file is reported at once, each
as ``file:line:column: message``.

>>> config = load_config(Path("receivers.yaml"))
>>> [r.name for r in config.receivers]
['iraq-desk', 'desk-email', 'archive']
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)

from rasd.durations import Duration
from rasd.notify.matchers import Label, Matchers
from rasd.notify.receivers import Receiver, ReceiverConfig, did_you_mean, receiver_types
from rasd.yamlerrors import ConfigError, ConfigInvalid, error_at, load, located, node_at

# Groups are keyed on the same labels matchers read.
GroupLabel = Label


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Route(Strict):
    receiver: str | None = None
    # Every matcher must hold (see rasd.notify.matchers); none means every alert.
    matchers: Matchers = ()
    continue_: bool = Field(False, alias="continue")
    # None inherits from the parent route.
    group_by: tuple[GroupLabel, ...] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    routes: tuple[Route, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _old_match(cls, data: object) -> object:
        if isinstance(data, dict) and "match" in data:
            raise ValueError(
                "`match:` is now `matchers:`, a list in the matcher syntax of silences, "
                "e.g. matchers: [severity>=high, places=~iraq|syria]"
            )
        return data


class InhibitRule(Strict):
    """While an alert matching ``source_matchers`` is active (for ``duration`` after the
    notifier read it), alerts matching ``target_matchers`` that share its ``equal`` labels are
    held back, as in Alertmanager. Labels with several values share one when any is common."""

    source_matchers: Matchers = Field(min_length=1)
    target_matchers: Matchers = Field(min_length=1)
    equal: tuple[Label, ...] = ()
    duration: Duration = timedelta(hours=24)


class RootRoute(Route):
    receiver: str
    group_by: tuple[GroupLabel, ...] = ()
    group_wait: Duration = timedelta(seconds=30)
    group_interval: Duration = timedelta(minutes=5)
    repeat_interval: Duration = timedelta(hours=4)


class Delivery(Strict):
    """How the notifier process works; tests shrink these."""

    max_attempts: int = Field(8, ge=1, le=100)
    backoff_initial: Duration = timedelta(seconds=2)
    backoff_max: Duration = timedelta(minutes=10)
    # A Retry-After longer than this is capped (a broken server must not park a group forever).
    max_retry_after: Duration = timedelta(hours=1)
    timeout: Duration = timedelta(seconds=10)
    # A notifier holds a group it is sending for this long; another one takes it over after.
    lease: Duration = timedelta(seconds=60)
    # Outbox entries read by a notifier that has not acknowledged them for this long are
    # taken over by another (XAUTOCLAIM).
    reclaim_idle: Duration = timedelta(seconds=60)
    poll_interval: Duration = timedelta(seconds=1)
    batch: int = Field(100, ge=1, le=10_000)
    # How many delivery attempts the Redis log keeps for the console.
    history: int = Field(10_000, ge=100)
    # How many dead letters are kept (the oldest go first; Redis trims in whole nodes, so a
    # few more may stay), and how long each alert's latest delivery status is kept.
    dead_letters: int = Field(10_000, ge=100)
    status_ttl: Duration = timedelta(days=14)

    @model_validator(mode="after")
    def _lease_outlives_send(self) -> Delivery:
        if self.lease <= self.timeout:
            raise ValueError("lease must be longer than timeout, or two notifiers could send")
        return self


class NotifyConfigBase(Strict):
    receivers: list[ReceiverConfig]
    route: RootRoute
    inhibit: tuple[InhibitRule, ...] = ()
    delivery: Delivery = Delivery()

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.receivers]

    def receiver(self, name: str) -> ReceiverConfig:
        return next(r for r in self.receivers if r.name == name)


@cache
def config_model() -> type[NotifyConfigBase]:
    """NotifyConfig with ``receivers`` a discriminated union of the registered types."""
    configs = tuple(cls.Config for cls in receiver_types().values())
    entry = Annotated[Union[configs], Field(discriminator="type")]  # noqa: UP007
    return create_model("NotifyConfig", __base__=NotifyConfigBase, receivers=(list[entry], ...))


def _routes(route: Route, loc: tuple) -> list[tuple[Route, tuple]]:
    found = [(route, loc)]
    for index, child in enumerate(route.routes):
        found.extend(_routes(child, (*loc, "routes", index)))
    return found


def _cross_checks(config: NotifyConfigBase, root, path: str) -> list[ConfigError]:
    errors = []
    names: dict[str, int] = {}
    for index, receiver in enumerate(config.receivers):
        if receiver.name in names:
            node = node_at(root, ("receivers", index, "name"))
            errors.append(error_at(path, node, f"duplicate receiver {receiver.name!r}"))
        names[receiver.name] = index
    for route, loc in _routes(config.route, ("route",)):
        if route.receiver is not None and route.receiver not in names:
            message = f"unknown receiver {route.receiver!r}" + did_you_mean(route.receiver, names)
            errors.append(error_at(path, node_at(root, (*loc, "receiver")), message))
    return errors


def _validation_errors(exc: ValidationError, root, path: str) -> list[ConfigError]:
    """pydantic's messages, lower-cased, each at its node and followed by its location; an
    unknown ``type:`` gets a "did you mean"."""
    errors = []
    types = receiver_types()
    for error, node in located(exc, root):
        loc = error["loc"]
        if error["type"] == "union_tag_invalid":
            tag = str(error["ctx"]["tag"])
            message = f"unknown receiver type {tag!r}" + did_you_mean(tag, types)
            errors.append(error_at(path, node_at(root, (*loc, "type"), key=True), message))
            continue
        where = ".".join(str(p) for p in loc)
        message = error["msg"][0].lower() + error["msg"][1:]
        errors.append(error_at(path, node, f"{message} ({where})" if where else message))
    return errors


def parse_config(text: str, path: str) -> NotifyConfigBase:
    document = load(text, path)
    root, data = document.root, document.data
    if not isinstance(data, dict):
        raise ConfigInvalid([ConfigError(path, 1, 1, "expected a mapping with receivers, route")])
    try:
        config = config_model().model_validate(data)
    except ValidationError as exc:
        raise ConfigInvalid(_validation_errors(exc, root, path)) from None
    errors = _cross_checks(config, root, path)
    if errors:
        raise ConfigInvalid(errors)
    return config


def load_config(path: Path) -> NotifyConfigBase:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        error = ConfigError(str(path), 1, 1, f"cannot read: {exc.strerror}")
        raise ConfigInvalid([error]) from None
    return parse_config(text, str(path))


def build_receivers(
    config: NotifyConfigBase, env: Mapping[str, str]
) -> tuple[dict[str, Receiver], dict[str, str]]:
    """The receivers that can work, and why each other one is disabled.

    A receiver whose secret environment variable is unset is disabled, not fatal: one
    missing Slack URL must not stop email from going out (``rasd notify run --strict``
    refuses to start instead). Alerts routed to a disabled receiver are recorded as such.
    """
    enabled: dict[str, Receiver] = {}
    disabled: dict[str, str] = {}
    types = receiver_types()
    for receiver_config in config.receivers:
        missing = receiver_config.missing_env(env)
        if missing:
            disabled[receiver_config.name] = "environment variable not set: " + ", ".join(missing)
            continue
        cls = types[receiver_config.type]
        enabled[receiver_config.name] = cls(
            receiver_config, timeout=config.delivery.timeout, env=env
        )
    return enabled, disabled
