"""Every setting rasd reads, in one place, from environment variables prefixed ``RASD_``.

Settings are validated once, when a process starts (``get_settings()``), and are frozen.
When ``RASD_KAFKA_BOOTSTRAP`` / ``RASD_REDIS_URL`` are set, those servers are used and the
local development stack (``rasd dev up``) starts nothing.

>>> s = get_settings()
>>> s.topic("articles")
'rasd.articles'
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOPIC_NAMES = ("articles", "matches", "alerts", "dead-letters", "rules")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RASD_", frozen=True, extra="forbid")

    # Connections. None means "the local development stack on the ports below".
    kafka_bootstrap: str | None = None
    redis_url: SecretStr | None = None

    # How to reach a secured Kafka (Amazon MSK, Confluent Cloud, Aiven, your own cluster);
    # rasd/connections.py turns these into every client's arguments. The CA file is needed
    # only when the broker's certificate is not signed by a CA the system trusts.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    # rediss:// URLs: the CA that signed the server's certificate, and a client certificate
    # when the server asks for one (redis-server --tls-auth-clients yes).
    redis_ssl_ca_file: Path | None = None
    redis_ssl_certfile: Path | None = None
    redis_ssl_keyfile: Path | None = None

    # The local development stack (rasd dev up). Ports away from 9092/6379 on purpose.
    kafka_port: int = Field(19092, ge=1, le=65535)
    kafka_controller_port: int = Field(19093, ge=1, le=65535)
    redis_port: int = Field(16379, ge=1, le=65535)
    kafka_version: str = "3.9.1"
    kafka_heap: str = "1g"
    state_dir: Path = Path(".rasd")
    cache_dir: Path = Path.home() / ".cache" / "rasd"

    # One namespace prefixes every topic, consumer group and Redis key, so that two rasd
    # installations (or two test runs) can share one Kafka and one Redis.
    namespace: str = Field("rasd", pattern=r"^[a-z][a-z0-9_-]*$")
    topic_partitions: int = Field(4, ge=1, le=256)
    topic_replication: int = Field(1, ge=1, le=16)
    # How long the articles topic keeps what it was sent: the past that `rasd rules backtest`
    # and the console's dry run can try a rule on (about 1.3 GB per 100,000 articles with
    # bodies; ARCHITECTURE.md, Retention).
    articles_retention_days: int = Field(30, ge=1, le=3650)

    # What to watch and where alerts go.
    rules_dir: Path = Path("rules")
    feeds_file: Path = Path("feeds.yaml")
    receivers_file: Path = Path("receivers.yaml")
    # How often running connectors and notifiers look at feeds_file / receivers_file (s).
    config_poll_interval: float = Field(1.0, gt=0, le=3600)

    # Console.
    console_host: str = "127.0.0.1"
    console_port: int = Field(8080, ge=1, le=65535)
    console_secret_key: SecretStr = SecretStr("change-me-in-production")
    # username -> password hash from `rasd console hash-password`, e.g.
    # RASD_CONSOLE_USERS='{"alice": "scrypt$16384$8$1$..."}'. Empty on the local dev stack
    # means the documented dev user (README); elsewhere the console refuses to start.
    console_users: dict[str, SecretStr] = Field(default_factory=dict)
    # Send the session cookie only over HTTPS; turn on whenever the console is behind TLS.
    console_secure_cookie: bool = False
    console_session_hours: int = Field(12, ge=1, le=24 * 30)
    # Failed logins allowed per username and per client address within the window; past that
    # the login answers 429 with Retry-After until the oldest failure leaves the window.
    console_login_max_failures: int = Field(5, ge=1, le=1000)
    console_login_window_seconds: int = Field(300, ge=1, le=86400)

    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_has_ports(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("console_users", mode="before")
    @classmethod
    def _users_json(cls, value: object) -> object:
        # The environment gives JSON; so may anyone building Settings from strings.
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("console_users")
    @classmethod
    def _users_hashed(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for user, hashed in value.items():
            if not hashed.get_secret_value().startswith("scrypt$"):
                raise ValueError(
                    f"user {user!r}: expected a hash from `rasd console hash-password`, "
                    "not a plain password"
                )
        return value

    @model_validator(mode="after")
    def _security_complete(self) -> Settings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and (self.kafka_sasl_username is None or self.kafka_sasl_password is None):
            raise ValueError(
                f"kafka_security_protocol {self.kafka_security_protocol} needs "
                "RASD_KAFKA_SASL_USERNAME and RASD_KAFKA_SASL_PASSWORD"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("RASD_KAFKA_SSL_CERTFILE and RASD_KAFKA_SSL_KEYFILE go together")
        if (self.redis_ssl_certfile is None) != (self.redis_ssl_keyfile is None):
            raise ValueError("RASD_REDIS_SSL_CERTFILE and RASD_REDIS_SSL_KEYFILE go together")
        for name in (
            "kafka_ssl_cafile",
            "kafka_ssl_certfile",
            "kafka_ssl_keyfile",
            "redis_ssl_ca_file",
            "redis_ssl_certfile",
            "redis_ssl_keyfile",
        ):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"RASD_{name.upper()}: no such file {path}")
        return self

    @property
    def kafka_uses_ssl(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @property
    def kafka_is_local(self) -> bool:
        return self.kafka_bootstrap is None

    @property
    def redis_is_local(self) -> bool:
        return self.redis_url is None

    @property
    def kafka_servers(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    @property
    def redis_dsn(self) -> str:
        if self.redis_url is not None:
            return self.redis_url.get_secret_value()
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def topic(self, name: str) -> str:
        """Kafka topic for one of TOPIC_NAMES, e.g. ``rasd.articles``."""
        if name not in TOPIC_NAMES:
            raise KeyError(f"unknown topic {name!r}; known: {', '.join(TOPIC_NAMES)}")
        return f"{self.namespace}.{name}"

    def group(self, name: str) -> str:
        """Kafka consumer group / Redis consumer group name in this namespace."""
        return f"{self.namespace}-{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
