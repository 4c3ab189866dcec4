"""docker-compose.yml cannot be run here (no Docker engine), so check it agrees with rasd."""

from pathlib import Path

import pytest
import yaml

from rasd.devstack.processes import PROCESSES
from rasd.devstack.supervisor import RESTART_POLICY
from rasd.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
# The built-in defaults, not this shell's RASD_* variables.
DEFAULTS = Settings.model_construct()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def rasd_services(compose: dict) -> dict:
    return {
        name: svc for name, svc in compose["services"].items() if name not in ("kafka", "redis")
    }


def host_port(service: dict, container_port: int) -> int:
    for mapping in service["ports"]:
        host, container = mapping.split(":")
        if int(container) == container_port:
            return int(host)
    raise AssertionError(f"no host port for {container_port}")


def env_of(service: dict) -> dict[str, str]:
    return {k: str(v) for k, v in service.get("environment", {}).items()}


def test_one_service_per_rasd_process_with_the_same_command(compose):
    services = rasd_services(compose)
    assert {name: tuple(svc["command"]) for name, svc in services.items()} == {
        p.name: p.args for p in PROCESSES
    }


def test_kafka_image_and_kraft_mode_match_settings(compose):
    kafka = compose["services"]["kafka"]
    settings = DEFAULTS
    assert kafka["image"] == f"apache/kafka:{settings.kafka_version}"
    assert settings.kafka_version.startswith("3.9.")
    env = env_of(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "ZOOKEEPER" not in " ".join(env)
    # Host tools with default settings reach the broker on the same port as the local stack.
    assert host_port(kafka, settings.kafka_port) == settings.kafka_port
    assert f"127.0.0.1:{settings.kafka_port}" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_NUM_PARTITIONS"] == str(settings.topic_partitions)


def test_redis_has_append_only_file_and_local_stack_port(compose):
    redis = compose["services"]["redis"]
    assert redis["image"].startswith("redis:")
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert host_port(redis, 6379) == DEFAULTS.redis_port


def test_rasd_services_use_only_real_setting_names_pointing_at_the_stack(compose):
    known = {f"RASD_{name.upper()}" for name in Settings.model_fields}
    for name, svc in rasd_services(compose).items():
        env = env_of(svc)
        assert set(env) <= known, f"{name}: unknown settings {set(env) - known}"
        assert env["RASD_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["RASD_REDIS_URL"].startswith("redis://redis:6379")
        Settings(**{k.removeprefix("RASD_").lower(): v for k, v in env.items()})
        assert set(svc["depends_on"]) == {"kafka", "redis"}


def test_console_port_matches_settings(compose):
    console = compose["services"]["console"]
    env = env_of(console)
    assert host_port(console, int(env["RASD_CONSOLE_PORT"])) == DEFAULTS.console_port


def test_every_service_restarts_as_the_local_stack_does(compose):
    """`rasd up` supervises Kafka, Redis and every rasd process with the same policy."""
    assert {name: svc.get("restart") for name, svc in compose["services"].items()} == {
        name: RESTART_POLICY for name in ("kafka", "redis", *(p.name for p in PROCESSES))
    }
