"""A local Redis from Debian's redis-server, append-only file on."""

from __future__ import annotations

import shutil

from pydantic import SecretStr

from rasd.devstack.process import DevStackError, ManagedProcess, port_in_use, wait_until
from rasd.settings import Settings

STARTUP_TIMEOUT = 30.0


class RedisServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.state_dir / "redis"
        self.process = ManagedProcess.in_state_dir("redis", settings.state_dir)

    @property
    def address(self) -> str:
        return f"redis://127.0.0.1:{self.settings.redis_port}/0"

    def start(self) -> str:
        if self.process.pid() is not None:
            if self.healthy():
                return "already running"
            raise self.process.unresponsive("Redis", self.address)
        if port_in_use(self.settings.redis_port):
            raise DevStackError(
                f"Port {self.settings.redis_port} is taken by another program, so Redis cannot "
                "start there. Stop it, choose another port (RASD_REDIS_PORT), or use it "
                "(RASD_REDIS_URL)."
            )
        # Debian puts it in /usr/bin, which a minimal PATH may lack.
        binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
        if binary is None:
            raise DevStackError(
                "redis-server is not installed (apt-get install redis-server), "
                "or set RASD_REDIS_URL to use an existing Redis."
            )
        self.home.mkdir(parents=True, exist_ok=True)
        self.process.start(
            [
                binary,
                "--port",
                str(self.settings.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.home.resolve()),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ]
        )
        wait_until(lambda: self.process.exited() or self.healthy(timeout=0), STARTUP_TIMEOUT)
        if self.process.exited() or not self.healthy():
            raise self.process.give_up("Redis", self.address, STARTUP_TIMEOUT)
        return "started"

    def stop(self) -> bool:
        return self.process.stop()

    def healthy(self, timeout: float = 3.0) -> bool:
        own = self.settings.model_copy(update={"redis_url": SecretStr(self.address)})
        return redis_ping(own, timeout)


def redis_ping(settings: Settings, timeout: float = 3.0) -> bool:
    """PING the settings' Redis until it answers or ``timeout`` passes."""
    from rasd.connections import redis_client

    def probe() -> bool:
        client = redis_client(settings, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()

    return wait_until(probe, timeout, interval=0.2)
