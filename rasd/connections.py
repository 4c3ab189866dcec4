"""Every Kafka and Redis client rasd uses is built here, from the settings.

One place knows how to reach the services — bootstrap servers, TLS, SASL, Redis URL and its
CA — so that a secured cluster (Amazon MSK, Confluent Cloud, Aiven, a company's own) needs
settings only, and tests get clients exactly as production does (quix-streams keeps one
connection config the same way).

>>> producer = kafka_producer(settings, acks="all")          # kafka-python
>>> consumer = aiokafka_consumer(settings, "rasd.rules")     # aiokafka, not started
>>> app = faust.App("id", **faust_broker_settings(settings))  # faust
>>> client = redis_client(settings)                           # redis-py; async_redis_client too
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from rasd.settings import Settings

if TYPE_CHECKING:
    import redis
    import redis.asyncio
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer


class KafkaUnreachable(Exception):
    """Kafka refused rasd's login or TLS handshake, or answered on none of its servers.

    ``refused`` tells the first (settings to fix) from the second (a broker that may come back).
    """

    def __init__(self, message: str, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


# -- Kafka ------------------------------------------------------------------------------------
def _kafka_security(settings: Settings) -> dict[str, Any]:
    """The security arguments kafka-python and aiokafka share (aiokafka needs a context)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # Settings checks SASL is complete
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    return options


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """TLS context for a broker on SSL or SASL_SSL (None on PLAINTEXT / SASL_PLAINTEXT).

    Without a CA file the system's trusted CAs are used, as managed clusters need.
    """
    if not settings.kafka_uses_ssl:
        return None
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile is not None:
        context.load_cert_chain(str(settings.kafka_ssl_certfile), str(settings.kafka_ssl_keyfile))
    return context


def kafka_options(settings: Settings) -> dict[str, Any]:
    """Arguments for any kafka-python or aiokafka client: servers, TLS and SASL."""
    options = {"bootstrap_servers": settings.kafka_servers, **_kafka_security(settings)}
    context = kafka_ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    return options


def check_kafka(settings: Settings, timeout: float = 10.0) -> None:
    """Connect to a bootstrap server once, with TLS and SASL, or raise :class:`KafkaUnreachable`.

    kafka-python and aiokafka only log a refused login and keep retrying, so a wrong password
    would otherwise look like a hang; processes call this at start (``ensure_topics`` does) to
    fail at once with the broker's reason.
    """
    import socket

    from kafka.conn import BrokerConnection
    from kafka.errors import SaslAuthenticationFailedError, UnsupportedSaslMechanismError

    class Probe(BrokerConnection):
        # The clients keep the reason a connection closed only in their log.
        reason: Exception | None = None

        def close(self, error: Exception | None = None) -> None:
            if error is not None and self.reason is None:
                self.reason = error
            super().close(error)

    options = kafka_options(settings)
    servers = options.pop("bootstrap_servers").split(",")
    options["request_timeout_ms"] = int(timeout * 1000)
    reasons, refused = [], False
    for server in servers:
        host, _, port = server.strip().rpartition(":")
        probe = Probe(host, int(port), socket.AF_UNSPEC, **options)
        try:
            if probe.connect_blocking(timeout=timeout):
                return
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its server
            probe.reason = probe.reason or exc
        finally:
            probe.close()
        reason = probe.reason
        refused = refused or isinstance(
            reason, ssl.SSLError | SaslAuthenticationFailedError | UnsupportedSaslMechanismError
        )
        if reason is None:
            detail = f"no answer within {timeout:g} s"
        elif isinstance(reason, ssl.SSLError):
            detail = f"TLS handshake failed: {reason} (is RASD_KAFKA_SSL_CAFILE the broker's CA?)"
        else:
            detail = str(reason) or type(reason).__name__
        reasons.append(f"{server.strip()}: {detail}")
    login = (
        f" as {settings.kafka_sasl_username!r} ({settings.kafka_sasl_mechanism})"
        if settings.kafka_security_protocol.startswith("SASL_")
        else ""
    )
    raise KafkaUnreachable(
        f"cannot connect to Kafka over {settings.kafka_security_protocol}{login}: "
        + "; ".join(reasons),
        refused=refused,
    )


def kafka_producer(settings: Settings, **options: Any) -> KafkaProducer:
    from kafka import KafkaProducer

    return KafkaProducer(**kafka_options(settings), **options)


def kafka_consumer(settings: Settings, *topics: str, **options: Any) -> KafkaConsumer:
    from kafka import KafkaConsumer

    return KafkaConsumer(*topics, **kafka_options(settings), **options)


def kafka_admin(settings: Settings, **options: Any) -> KafkaAdminClient:
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**kafka_options(settings), **options)


def aiokafka_producer(settings: Settings, **options: Any) -> AIOKafkaProducer:
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(**kafka_options(settings), **options)


def aiokafka_consumer(settings: Settings, *topics: str, **options: Any) -> AIOKafkaConsumer:
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(*topics, **kafka_options(settings), **options)


def aiokafka_admin(settings: Settings, **options: Any) -> AIOKafkaAdminClient:
    from aiokafka.admin import AIOKafkaAdminClient

    return AIOKafkaAdminClient(**kafka_options(settings), **options)


def faust_broker_settings(settings: Settings, scheme: str = "kafka") -> dict[str, Any]:
    """``broker`` and ``broker_credentials`` for ``faust.App``.

    faust hands the credentials to aiokafka itself (``credentials_to_aiokafka_auth``), so the
    worker's consumers, producers and topic creation all connect as the other clients do.
    """
    import faust

    servers = [f"{scheme}://{server.strip()}" for server in settings.kafka_servers.split(",")]
    context = kafka_ssl_context(settings)
    credentials: Any = None
    if settings.kafka_security_protocol.startswith("SASL_"):
        security = _kafka_security(settings)
        credentials = faust.SASLCredentials(
            username=security["sasl_plain_username"],
            password=security["sasl_plain_password"],
            mechanism=security["sasl_mechanism"],
            ssl_context=context,
        )
    elif context is not None:
        credentials = faust.SSLCredentials(context)
    return {"broker": servers, "broker_credentials": credentials}


# -- Redis ------------------------------------------------------------------------------------
def redis_options(settings: Settings) -> dict[str, Any]:
    """TLS arguments for ``from_url`` on a ``rediss://`` URL (none on ``redis://``)."""
    if not settings.redis_dsn.startswith("rediss://"):
        return {}
    options: dict[str, Any] = {}
    if settings.redis_ssl_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.redis_ssl_ca_file)
    if settings.redis_ssl_certfile is not None:
        options["ssl_certfile"] = str(settings.redis_ssl_certfile)
        options["ssl_keyfile"] = str(settings.redis_ssl_keyfile)
    return options


# Every client decodes replies to str: everything rasd keeps in Redis is UTF-8 text (JSON,
# decimal numbers, ids; story sketches are base64), so no reader has to turn bytes into str,
# and a module cannot receive bytes from one caller and str from another. The option is not
# offered (passing decode_responses is a TypeError): a binary value would need a client of its
# own, named for it, and there is none today.
def redis_client(settings: Settings, **options: Any) -> redis.Redis:
    """A redis-py client whose replies are str (see above)."""
    import redis

    return redis.Redis.from_url(
        settings.redis_dsn, decode_responses=True, **redis_options(settings), **options
    )


def async_redis_client(settings: Settings, **options: Any) -> redis.asyncio.Redis:
    """A redis.asyncio client whose replies are str (see above)."""
    import redis.asyncio

    return redis.asyncio.Redis.from_url(
        settings.redis_dsn, decode_responses=True, **redis_options(settings), **options
    )
