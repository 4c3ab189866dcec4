"""A single-node Apache Kafka broker in KRaft mode, from Maven Central jars, run with java."""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rasd.devstack.process import DevStackError, ManagedProcess, port_in_use, wait_until
from rasd.settings import Settings

STARTUP_TIMEOUT = 90.0

_LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
"""


@dataclass(frozen=True)
class SecureListener:
    """An extra SASL_SSL listener with SCRAM-SHA-512 users, as managed clusters offer.

    ``keystore`` is one PEM file with the broker's private key (PKCS#8, unencrypted) and its
    certificate chain; Kafka 3 reads it directly (``ssl.keystore.type=PEM``). The users are
    written into the metadata when the storage is formatted (``--add-scram``), so they exist
    before the first client connects.
    """

    port: int
    keystore: Path
    users: Mapping[str, str] = field(default_factory=dict)

    def properties(self) -> list[str]:
        return [
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={self.keystore.resolve()}",
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        ]

    def format_arguments(self) -> list[str]:
        arguments = []
        for name, password in self.users.items():
            arguments += ["--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]"]
        return arguments


class KafkaBroker:
    def __init__(self, settings: Settings, secure: SecureListener | None = None) -> None:
        self.settings = settings
        self.secure = secure
        self.home = settings.state_dir / "kafka"
        self.jar_dir = settings.cache_dir / f"kafka-{settings.kafka_version}" / "jars"
        self.process = ManagedProcess.in_state_dir("kafka", settings.state_dir)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.settings.kafka_port}"

    # -- jars -------------------------------------------------------------------------------
    def ensure_jars(self) -> Path:
        """Download the broker's jars once per version; later calls download nothing."""
        marker = self.jar_dir / ".complete"
        if marker.exists():
            return self.jar_dir
        mvn = shutil.which("mvn")
        if mvn is None:
            raise DevStackError(
                "Maven (mvn) is not installed; it fetches Kafka's jars from Maven Central. "
                "Install it (apt-get install maven) or set RASD_KAFKA_BOOTSTRAP to use an "
                "existing broker."
            )
        self.jar_dir.mkdir(parents=True, exist_ok=True)
        pom = resources.files("rasd.devstack") / "kafka" / "pom.xml"
        with tempfile.TemporaryDirectory() as tmp:
            pom_path = Path(tmp) / "pom.xml"
            pom_path.write_text(pom.read_text())
            result = subprocess.run(
                [
                    mvn,
                    "-B",
                    "-q",
                    "-f",
                    str(pom_path),
                    f"-Dkafka.version={self.settings.kafka_version}",
                    "dependency:copy-dependencies",
                    "-DincludeScope=runtime",
                    f"-DoutputDirectory={self.jar_dir.resolve()}",
                ],
                capture_output=True,
                text=True,
            )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise DevStackError(
                f"Maven could not download Kafka {self.settings.kafka_version} from Maven "
                f"Central (exit {result.returncode}):\n{tail}"
            )
        marker.touch()
        return self.jar_dir

    # -- configuration and storage ------------------------------------------------------------
    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise DevStackError(
                "Java is not installed; the local Kafka broker needs a JDK/JRE 17+ "
                "(apt-get install openjdk-17-jre-headless), or set RASD_KAFKA_BOOTSTRAP."
            )
        return java

    def _write_config(self) -> Path:
        s = self.settings
        data = (self.home / "data").resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        listeners = f"PLAINTEXT://127.0.0.1:{s.kafka_port}"
        protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        if self.secure is not None:
            listeners += f",SASL_SSL://127.0.0.1:{self.secure.port}"
            protocols += ",SASL_SSL:SASL_SSL"
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}",
                    f"listeners={listeners},CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
                    f"advertised.listeners={listeners}",
                    "controller.listener.names=CONTROLLER",
                    f"listener.security.protocol.map={protocols}",
                    *(self.secure.properties() if self.secure is not None else []),
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={data}",
                    f"num.partitions={s.topic_partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=8",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    "",
                ]
            )
        )
        (self.home / "log4j.properties").write_text(_LOG4J)
        return props

    def _format_storage(self, java: str, props: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        result = subprocess.run(
            [
                java,
                *self._java_opts(),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props.resolve()),
                "--ignore-formatted",
                *(self.secure.format_arguments() if self.secure is not None else []),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise DevStackError(
                f"Formatting Kafka's storage failed:\n{result.stdout}{result.stderr}"
            )

    def _java_opts(self) -> list[str]:
        return [
            "-cp",
            f"{self.jar_dir.resolve()}/*",
            f"-Dlog4j.configuration=file:{(self.home / 'log4j.properties').resolve()}",
            f"-Dkafka.logs.dir={(self.home / 'logs').resolve()}",
        ]

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> str:
        """Start the broker unless ours already runs; return once a round trip works."""
        if self.process.pid() is not None:
            if self.healthy(timeout=10):
                return "already running"
            raise self.process.unresponsive("Kafka", self.address)
        ports = [self.settings.kafka_port, self.settings.kafka_controller_port]
        if self.secure is not None:
            ports.append(self.secure.port)
        for port in ports:
            if port_in_use(port):
                raise DevStackError(
                    f"Port {port} is taken by another program, so Kafka cannot start there. "
                    "Stop that program, choose other ports (RASD_KAFKA_PORT, "
                    "RASD_KAFKA_CONTROLLER_PORT), or use it as the broker (RASD_KAFKA_BOOTSTRAP)."
                )
        java = self._java()
        self.ensure_jars()
        props = self._write_config()
        self._format_storage(java, props)
        self.process.start(
            [
                java,
                f"-Xmx{self.settings.kafka_heap}",
                f"-Xms{self.settings.kafka_heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                *self._java_opts(),
                "kafka.Kafka",
                str(props.resolve()),
            ]
        )
        wait_until(
            lambda: self.process.exited() or port_in_use(self.settings.kafka_port),
            STARTUP_TIMEOUT,
        )
        if self.process.exited() or not self.healthy(timeout=STARTUP_TIMEOUT):
            raise self.process.give_up("Kafka", self.address, STARTUP_TIMEOUT)
        return "started"

    def stop(self) -> bool:
        return self.process.stop(timeout=60)

    def healthy(self, timeout: float = 5.0) -> bool:
        return kafka_round_trip(self.plaintext_settings(), timeout=timeout)

    def plaintext_settings(self) -> Settings:
        """Settings for this broker's PLAINTEXT listener, whatever security clients use."""
        return self.settings.model_copy(
            update={"kafka_bootstrap": self.address, "kafka_security_protocol": "PLAINTEXT"}
        )


def kafka_round_trip(settings: Settings, timeout: float = 10.0) -> bool:
    """Produce a unique record to ``rasd-healthcheck`` on the settings' broker and read it back."""
    from kafka import TopicPartition
    from kafka.errors import KafkaError

    from rasd.connections import kafka_consumer, kafka_producer

    nonce = uuid.uuid4().hex.encode()
    topic = "rasd-healthcheck"

    def attempt() -> bool:
        producer = kafka_producer(settings, acks="all", request_timeout_ms=5000, max_block_ms=5000)
        try:
            meta = producer.send(topic, value=nonce).get(timeout=10)
        finally:
            producer.close(timeout=5)
        consumer = kafka_consumer(settings, enable_auto_commit=False, consumer_timeout_ms=5000)
        try:
            tp = TopicPartition(topic, meta.partition)
            consumer.assign([tp])
            consumer.seek(tp, meta.offset)
            return any(record.value == nonce for record in consumer)
        finally:
            consumer.close()

    def probe() -> bool:
        try:
            return attempt()
        except KafkaError:
            return False

    return wait_until(probe, timeout, interval=1.0)


def new_cluster_id() -> str:
    """A random cluster id as Kafka writes them (a UUID in URL-safe base64, no padding).

    Never one that starts with "-", which the storage tool's argument parser reads as an
    option ("argument --cluster-id/-t: expected one argument"): one id in 64 did. Kafka's own
    ``Uuid.randomUuid`` draws again in that case too.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id
