"""Receivers by name: ``slack``, ``email``, ``webhook``, plus any a package registers under
the ``rasd.receivers`` entry-point group.

>>> receiver_class("slack")
<class 'rasd.notify.receivers.slack.SlackReceiver'>
>>> receiver_class("slak")
Traceback (most recent call last):
UnknownReceiverType: unknown receiver type 'slak'; did you mean 'slack'?
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib.metadata import entry_points

from rasd.notify.receivers.base import DeliveryError, Outcome, Receiver, ReceiverConfig
from rasd.notify.receivers.email import EmailReceiver
from rasd.notify.receivers.slack import SlackReceiver
from rasd.notify.receivers.webhook import WebhookReceiver

__all__ = [
    "DeliveryError",
    "Outcome",
    "Receiver",
    "ReceiverConfig",
    "UnknownReceiverType",
    "did_you_mean",
    "receiver_class",
    "receiver_types",
]

BUILTIN: tuple[type[Receiver], ...] = (SlackReceiver, EmailReceiver, WebhookReceiver)


class UnknownReceiverType(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def did_you_mean(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"


@cache
def receiver_types() -> dict[str, type[Receiver]]:
    types = {cls.type: cls for cls in BUILTIN}
    for entry in entry_points(group="rasd.receivers"):
        cls = entry.load()
        types[cls.type] = cls
    return types


def receiver_class(name: str) -> type[Receiver]:
    types = receiver_types()
    if name not in types:
        raise UnknownReceiverType(f"unknown receiver type {name!r}" + did_you_mean(name, types))
    return types[name]
