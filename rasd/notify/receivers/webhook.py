"""A generic webhook: the alerts as JSON, signed with HMAC-SHA256.

The receiving side checks ``X-Rasd-Signature: sha256=<hex>``, the HMAC-SHA256 (shared secret)
of ``<X-Rasd-Timestamp>.<body>``; the timestamp in the signed text lets it refuse replays.

Body::

    {"receiver": "archive", "alerts": [<Alert JSON>, ...]}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Literal

from pydantic import AnyHttpUrl, model_validator

from rasd.models import Alert
from rasd.notify.receivers.base import Outcome, ReceiverConfig
from rasd.notify.receivers.http import HTTPReceiver

SIGNATURE_HEADER = "X-Rasd-Signature"
TIMESTAMP_HEADER = "X-Rasd-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(receiver: str, alerts: Sequence[Alert]) -> bytes:
    document = {"receiver": receiver, "alerts": [a.model_dump(mode="json") for a in alerts]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookConfig(ReceiverConfig):
    """``url``, or ``url_env`` naming the variable that holds it (a URL with a token in it is
    a secret too)."""

    type: Literal["webhook"]
    url: AnyHttpUrl | None = None
    url_env: str | None = None
    secret_env: str

    @model_validator(mode="after")
    def _one_url(self) -> WebhookConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give url or url_env (one of them)")
        return self


class WebhookReceiver(HTTPReceiver):
    type = "webhook"
    Config = WebhookConfig

    async def notify(self, alerts: Sequence[Alert]) -> Outcome:
        body = webhook_body(self.name, alerts)
        timestamp = str(int(time.time()))
        headers = {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret("secret_env"), timestamp, body),
        }
        url = str(self.config.url) if self.config.url else self.secret("url_env")
        return await self.post(url, body, headers)
