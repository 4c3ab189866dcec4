"""The receiver plugin interface: a typed config model and an async ``notify``.

As in Alertmanager, ``notify`` does not raise for a failed delivery: it returns
``(retry, error)``. ``(False, None)`` is success; ``(True, error)`` a failure worth retrying
(a 5xx, a 429, a timeout); ``(False, error)`` a permanent one (a 404 webhook, a refused
recipient), which goes straight to the dead letters.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from rasd.models import Alert

Outcome = tuple[bool, "DeliveryError | None"]


@dataclass
class DeliveryError(Exception):
    message: str
    status: int | None = None
    # Seconds the far end asked us to wait (HTTP Retry-After), honoured by the retry stage.
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message


class ReceiverConfig(BaseModel):
    """Options common to every receiver. Fields named ``*_env`` name environment variables
    holding secrets, so that no secret is ever written in receivers.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

    def env_names(self) -> dict[str, str]:
        """Field name -> environment variable name, for every secret this receiver uses."""
        return {
            field: value
            for field, value in self
            if field.endswith("_env") and isinstance(value, str) and value
        }

    def missing_env(self, env: Mapping[str, str]) -> list[str]:
        return [name for name in self.env_names().values() if not env.get(name)]


class Receiver(ABC):
    """One configured destination. Subclasses set ``type`` and ``Config`` and register
    themselves with :func:`rasd.notify.receivers.register`."""

    type: ClassVar[str]
    Config: ClassVar[type[ReceiverConfig]]

    def __init__(
        self, config: ReceiverConfig, *, timeout: timedelta, env: Mapping[str, str] | None = None
    ) -> None:
        self.config = config
        self.name = config.name
        self.timeout = timeout.total_seconds()
        self._env = os.environ if env is None else env

    def secret(self, field: str) -> str:
        return self._env[getattr(self.config, field)]

    @abstractmethod
    async def notify(self, alerts: Sequence[Alert]) -> Outcome:
        """Deliver one message about ``alerts`` (one group); never raises for delivery."""

    async def aclose(self) -> None:  # noqa: B027 (most receivers hold nothing to release)
        """Release connections and threads."""
