"""Slack through an incoming webhook; the webhook URL is the secret and comes from the env."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from rasd.models import Alert
from rasd.notify.messages.slack import slack_payload
from rasd.notify.receivers.base import Outcome, ReceiverConfig
from rasd.notify.receivers.http import HTTPReceiver


class SlackConfig(ReceiverConfig):
    type: Literal["slack"]
    url_env: str


class SlackReceiver(HTTPReceiver):
    type = "slack"
    Config = SlackConfig

    async def notify(self, alerts: Sequence[Alert]) -> Outcome:
        body = json.dumps(slack_payload(alerts), ensure_ascii=False).encode()
        return await self.post(self.secret("url_env"), body, {})
