"""How settings become client arguments (rasd/connections.py); the real servers are tested in
tests/integration/secure."""

from __future__ import annotations

import ssl

import faust
import pytest
from pydantic import ValidationError

from rasd.connections import (
    faust_broker_settings,
    kafka_options,
    kafka_ssl_context,
    redis_options,
)
from rasd.settings import Settings

# Settings only check that the files exist; no test here opens them.
CA = "a PEM file\n"


def sasl(**extra) -> Settings:
    return Settings(
        kafka_bootstrap="b1.example:9096,b2.example:9096",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="rasd",
        kafka_sasl_password="pw",
        **extra,
    )


def test_plaintext_passes_no_security_arguments():
    options = kafka_options(Settings(kafka_bootstrap="k:9092"))
    assert options == {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    assert faust_broker_settings(Settings(kafka_bootstrap="k:9092")) == {
        "broker": ["kafka://k:9092"],
        "broker_credentials": None,
    }


def test_sasl_ssl_gives_every_client_the_login_and_a_verifying_context():
    options = kafka_options(sasl())
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "rasd"
    assert options["sasl_plain_password"] == "pw"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname

    broker = faust_broker_settings(sasl())
    assert broker["broker"] == ["kafka://b1.example:9096", "kafka://b2.example:9096"]
    credentials = broker["broker_credentials"]
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("rasd", "pw")


def test_sasl_plaintext_has_no_tls():
    s = Settings(
        kafka_bootstrap="k:9092",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
    )
    assert kafka_ssl_context(s) is None
    assert "ssl_context" not in kafka_options(s)
    assert faust_broker_settings(s)["broker_credentials"].protocol.value == "SASL_PLAINTEXT"


def test_ssl_only_uses_faust_ssl_credentials():
    s = Settings(kafka_bootstrap="k:9093", kafka_security_protocol="SSL")
    assert isinstance(faust_broker_settings(s)["broker_credentials"], faust.SSLCredentials)
    assert "sasl_mechanism" not in kafka_options(s)


def test_sasl_without_password_is_refused_naming_the_variables():
    with pytest.raises(ValidationError, match="RASD_KAFKA_SASL_PASSWORD"):
        Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u")


def test_missing_certificate_files_are_refused(tmp_path):
    with pytest.raises(ValidationError, match="no such file"):
        sasl(kafka_ssl_cafile=tmp_path / "absent.pem")
    cert = tmp_path / "client.pem"
    cert.write_text(CA)
    with pytest.raises(ValidationError, match="go together"):
        sasl(kafka_ssl_certfile=cert)


def test_redis_tls_arguments_only_for_rediss(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(CA)
    plain = Settings(redis_url="redis://r:6379/0", redis_ssl_ca_file=ca)
    assert redis_options(plain) == {}
    tls = Settings(redis_url="rediss://:pw@r:6380/0", redis_ssl_ca_file=ca)
    assert redis_options(tls) == {"ssl_ca_certs": str(ca)}


def test_secrets_do_not_show_in_repr():
    assert "pw" not in repr(sasl())
