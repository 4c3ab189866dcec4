import pytest
from pydantic import ValidationError

from rasd.keys import RedisKeys
from rasd.settings import Settings


@pytest.fixture(autouse=True)
def _no_rasd_environment(monkeypatch):
    """These tests are about defaults and parsing, not about the shell that runs them."""
    import os

    for name in [n for n in os.environ if n.startswith("RASD_")]:
        monkeypatch.delenv(name)


def test_defaults_use_local_stack_on_own_ports():
    s = Settings()
    assert s.kafka_is_local and s.redis_is_local
    assert s.kafka_servers == "127.0.0.1:19092"
    assert s.redis_dsn == "redis://127.0.0.1:16379/0"
    assert s.kafka_port != 9092 and s.redis_port != 6379


def test_environment_selects_external_services(monkeypatch):
    monkeypatch.setenv("RASD_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("RASD_REDIS_URL", "redis://:hunter2@cache:6379/3")
    s = Settings()
    assert not s.kafka_is_local and not s.redis_is_local
    assert s.kafka_servers == "kafka-1:9092,kafka-2:9092"
    assert s.redis_dsn == "redis://:hunter2@cache:6379/3"
    assert "hunter2" not in repr(s)


@pytest.mark.parametrize(
    "name,value",
    [
        ("RASD_KAFKA_BOOTSTRAP", "no-port"),
        ("RASD_REDIS_URL", "http://cache:6379"),
        ("RASD_TOPIC_PARTITIONS", "0"),
        ("RASD_NAMESPACE", "Has Spaces"),
        ("RASD_LOG_LEVEL", "LOUD"),
    ],
)
def test_invalid_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert info.value.errors()[0]["loc"][0] == name.removeprefix("RASD_").lower()


def test_unknown_setting_is_refused():
    with pytest.raises(ValidationError):
        Settings(kafka_bootsrap="x:1")


def test_names_are_namespaced():
    s = Settings(namespace="desk2")
    assert s.topic("articles") == "desk2.articles"
    assert s.topic("dead-letters") == "desk2.dead-letters"
    assert RedisKeys(s).outbox == "desk2:outbox"
    assert s.group("worker") == "desk2-worker"
    with pytest.raises(KeyError):
        s.topic("nonsense")


def test_settings_are_frozen():
    s = Settings()
    with pytest.raises(ValidationError):
        s.namespace = "other"
