"""The usual failures of the local stack give errors a person can act on."""

import os
import socket
import stat
from pathlib import Path

import pytest

from rasd.devstack.kafka import KafkaBroker
from rasd.devstack.process import DevStackError
from rasd.devstack.redis import RedisServer
from rasd.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(directory: Path, name: str, script: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def local(tmp_path) -> Settings:
    return Settings.model_construct(
        **{
            **Settings.model_construct().__dict__,
            "kafka_bootstrap": None,
            "redis_url": None,
            "kafka_port": free_port(),
            "kafka_controller_port": free_port(),
            "redis_port": free_port(),
            "state_dir": tmp_path / "state",
            "cache_dir": tmp_path / "cache",
        }
    )


def test_port_taken_names_the_port_and_the_way_out(local):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local.kafka_port))
        squatter.listen()
        with pytest.raises(DevStackError) as info:
            KafkaBroker(local).start()
    assert f"Port {local.kafka_port} is taken" in str(info.value)
    assert "RASD_KAFKA_BOOTSTRAP" in str(info.value)


def test_redis_port_taken(local):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local.redis_port))
        squatter.listen()
        with pytest.raises(DevStackError, match=f"Port {local.redis_port} is taken"):
            RedisServer(local).start()


def test_no_java(local, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(DevStackError, match="Java is not installed"):
        KafkaBroker(local).start()


def test_maven_cannot_download(local, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool(
        bin_dir,
        "mvn",
        'echo "[ERROR] Could not transfer artifact org.apache.kafka:kafka_2.13"; exit 1\n',
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DevStackError) as info:
        KafkaBroker(local).ensure_jars()
    assert "Maven could not download Kafka" in str(info.value)
    assert "Could not transfer artifact" in str(info.value)
    assert not (local.cache_dir / f"kafka-{local.kafka_version}" / "jars" / ".complete").exists()


def test_broker_that_dies_reports_its_last_log_lines(local, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool(
        bin_dir,
        "java",
        'case "$*" in *StorageTool*) exit 0;; esac\n'
        'echo "ERROR Exiting Kafka due to fatal exception: disk on fire"; exit 1\n',
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    broker = KafkaBroker(local)
    broker.jar_dir.mkdir(parents=True)
    (broker.jar_dir / ".complete").touch()
    with pytest.raises(DevStackError) as info:
        broker.start()
    assert "did not become healthy" in str(info.value)
    assert "disk on fire" in str(info.value)
    assert broker.process.pid() is None
