"""Shared HTTP delivery for Slack and webhooks: one client, one failure classification."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from rasd.notify.receivers.base import DeliveryError, Outcome, Receiver

# Slack asks for a retry on these; so do most webhook servers. Every other 4xx is permanent.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HTTPReceiver(Receiver):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._client: httpx.AsyncClient | None = None

    async def post(self, url: str, content: bytes, headers: dict[str, str]) -> Outcome:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        try:
            response = await self._client.post(
                url, content=content, headers={"Content-Type": "application/json", **headers}
            )
        except httpx.TimeoutException:
            return True, DeliveryError(f"timed out after {self.timeout:g}s")
        except httpx.HTTPError as exc:
            return True, DeliveryError(f"{type(exc).__name__}: {exc}")
        if response.is_success:
            return False, None
        error = DeliveryError(
            f"HTTP {response.status_code}: {response.text[:200]}",
            status=response.status_code,
            retry_after=retry_after(response.headers.get("Retry-After")),
        )
        return response.status_code in RETRYABLE_STATUS, error

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
