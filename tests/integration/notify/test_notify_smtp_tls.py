"""Email over STARTTLS and implicit TLS with authentication, against a real aiosmtpd server
with a certificate made for the test."""

import ssl
import subprocess
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from notify_harness import SmtpRecorder, free_port
from notify_samples import english_alert

from rasd.notify.receivers.email import EmailConfig, EmailReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"rasd",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(params=["starttls", "tls"])
def tls_smtp(request, certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = SmtpRecorder()
    options = dict(authenticator=authenticate)
    if request.param == "starttls":
        options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
        controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **options)
    else:
        # aiosmtpd does not see that an implicit-TLS connection is encrypted, so it would
        # hide AUTH if it were told to require TLS for it; the connection is TLS regardless.
        options.update(auth_require_tls=False)
        controller = Controller(
            recorder,
            hostname="127.0.0.1",
            port=free_port(),
            ssl_context=context,
            **options,
        )
    controller.start()
    yield request.param, controller.port, cert, recorder
    controller.stop()


async def test_email_over_tls_with_auth(tls_smtp):
    security, port, cert, recorder = tls_smtp
    config = EmailConfig(
        name="mail",
        type="email",
        host="127.0.0.1",
        port=port,
        security=security,
        ca_file=cert,
        username_env="U",
        password_env="P",
        to=("desk@example.org",),
        **{"from": "rasd@example.org"},
    )
    good = EmailReceiver(config, timeout=timedelta(seconds=5), env={"U": "rasd", "P": "s3cret"})
    bad = EmailReceiver(config, timeout=timedelta(seconds=5), env={"U": "rasd", "P": "wrong"})
    try:
        outcome = await good.notify([english_alert()])
        assert outcome == (False, None), str(outcome[1])
        retry, error = await bad.notify([english_alert()])
    finally:
        await good.aclose()
        await bad.aclose()
    assert len(recorder.messages) == 1
    assert (retry, error.status) == (False, 535), str(error)  # bad credentials: permanent
