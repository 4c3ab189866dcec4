"""Email over SMTP (STARTTLS, implicit TLS or plain for a local relay), auth from the env.

smtplib is blocking, so it runs on this receiver's own single thread, which ``aclose`` stops.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Literal

from pydantic import Field, FilePath, model_validator

from rasd.models import Alert
from rasd.notify.messages.email import email_message
from rasd.notify.receivers.base import DeliveryError, Outcome, Receiver, ReceiverConfig

Address = Annotated[str, Field(pattern=r"^[^\s@,<>]+@[^\s@,<>]+$")]


class EmailConfig(ReceiverConfig):
    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    # A CA bundle to verify the server with, for a relay whose certificate a private CA signed.
    ca_file: FilePath | None = None
    sender: Address = Field(alias="from")
    to: tuple[Address, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailConfig:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together")
        return self


def _code_outcome(code: int, message: str) -> Outcome:
    """SMTP 4xx is a temporary failure worth retrying, 5xx a permanent one."""
    return 400 <= code < 500, DeliveryError(message, status=code)


class EmailReceiver(Receiver):
    type = "email"
    Config = EmailConfig
    config: EmailConfig

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._executor: ThreadPoolExecutor | None = None

    def _send(self, alerts: Sequence[Alert]) -> Outcome:
        c = self.config
        message = email_message(alerts, sender=c.sender, to=c.to)
        try:
            context = ssl.create_default_context(cafile=c.ca_file)
            if c.security == "tls":
                smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=self.timeout)
            with smtp:
                if c.security == "starttls":
                    smtp.starttls(context=context)
                if c.username_env:
                    smtp.login(self.secret("username_env"), self.secret("password_env"))
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            text = "; ".join(f"{r}: {code} {msg!r}" for r, (code, msg) in exc.recipients.items())
            return all(400 <= code < 500 for code in codes), DeliveryError(
                f"recipients refused: {text}", status=max(codes)
            )
        except smtplib.SMTPResponseException as exc:
            return _code_outcome(exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as exc:
            return True, DeliveryError(f"{type(exc).__name__}: {exc}")
        if refused:
            # The others got it: retrying would send them a duplicate, so this is permanent.
            text = "; ".join(f"{r}: {code} {msg!r}" for r, (code, msg) in refused.items())
            return False, DeliveryError(f"some recipients refused: {text}")
        return False, None

    async def notify(self, alerts: Sequence[Alert]) -> Outcome:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"smtp-{self.name}")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._send, alerts)

    async def aclose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
