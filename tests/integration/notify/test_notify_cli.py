"""`rasd silence add|list|expire` and `rasd notify check` through the real CLI and Redis."""

import asyncio

import pytest
from typer.testing import CliRunner

from rasd.cli import app
from rasd.connections import async_redis_client
from rasd.notify.silences import SilenceStore
from rasd.settings import get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(settings, monkeypatch):
    monkeypatch.setenv("RASD_NAMESPACE", settings.namespace)
    monkeypatch.setenv("RASD_REDIS_URL", settings.redis_dsn)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def stored(settings):
    async def read():
        client = async_redis_client(settings)
        try:
            return await SilenceStore(client, settings).all()
        finally:
            await client.aclose()

    return asyncio.run(read())


def test_silence_add_list_expire(cli, settings):
    result = cli(
        "silence",
        "add",
        "rule=rocket-attack",
        "places=iraq",
        "-d",
        "2h",
        "-m",
        "exercise",
        "--author",
        "sara",
    )
    assert result.exit_code == 0, result.output
    silence_id = result.output.strip()
    [silence] = stored(settings)
    assert silence.id == silence_id and silence.author == "sara"
    assert [str(m) for m in silence.matchers] == ["rule=rocket-attack", "places=iraq"]

    listed = cli("silence", "list")
    assert silence_id in listed.output and "active" in listed.output

    assert cli("silence", "expire", silence_id).exit_code == 0
    assert silence_id not in cli("silence", "list").output
    assert "expired" in cli("silence", "list", "--all").output
    assert cli("silence", "expire", "nope").exit_code == 1


def test_silence_add_refuses_bad_matchers(cli):
    result = cli("silence", "add", "colour=red", "-m", "x")
    assert result.exit_code == 2
    assert "unknown label 'colour'; known: " in result.output


def test_notify_check_reports_errors_with_positions(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("RASD_RULES_DIR", str(tmp_path))  # no rule names a receiver
    get_settings.cache_clear()
    path = tmp_path / "receivers.yaml"
    path.write_text(
        "receivers:\n  - {name: a, type: slack, url_env: A_URL}\nroute:\n  receiver: b\n"
    )
    result = cli("notify", "check", "-c", str(path))
    assert result.exit_code == 2
    assert f"{path}:4:13: unknown receiver 'b'; known: a" in result.output
    path.write_text(
        "receivers:\n  - {name: a, type: slack, url_env: A_URL}\nroute:\n  receiver: a\n"
    )
    monkeypatch.delenv("A_URL", raising=False)
    assert cli("notify", "check", "-c", str(path)).exit_code == 0
    assert cli("notify", "check", "-c", str(path), "--strict").exit_code == 2
    monkeypatch.setenv("A_URL", "https://hooks.example/x")
    assert cli("notify", "check", "-c", str(path), "--strict").exit_code == 0


def test_notify_log_and_dead_show_what_happened(cli, settings):
    from rasd.notify.history import DeadLetter, attempt
    from rasd.notify.ledger import Ledger

    async def seed():
        client = async_redis_client(settings)
        try:
            ledger = Ledger(client, settings)  # written as the notifier writes them
            entry = attempt(
                "retry", alerts=("story:a",), receiver="desk", attempt=1, error="HTTP 503"
            )
            dead = DeadLetter(reason="permanent failure: HTTP 404", receiver="desk", at=entry.at)
            pipe = client.pipeline(transaction=False)
            ledger.log(pipe, entry)
            ledger.dead_letter(pipe, dead)
            await pipe.execute()
        finally:
            await client.aclose()

    asyncio.run(seed())
    log = cli("notify", "log", "--alert", "story:a")
    assert log.exit_code == 0 and "retry" in log.output and "HTTP 503" in log.output
    dead = cli("notify", "dead")
    assert dead.exit_code == 0 and "permanent" in dead.output and "404" in dead.output
