"""Helpers for the fleet stack tests: paths, free ports, servers as processes.

Servers run on 127.0.0.1 only, on free ports, each with a time limit, and are
stopped at the end of their test (or module). Sockets are enabled per test
with pytest-socket's ``socket_enabled`` fixture; Home Assistant's test plugin
still lets them connect to 127.0.0.1 only.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import os
from pathlib import Path
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Self

import paho.mqtt.client as mqtt
import pytest

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "stack"
LOOPBACK = "127.0.0.1"

for _package_dir in (STACK / "replication", STACK / "homeassistant"):
    if str(_package_dir) not in sys.path:
        sys.path.insert(0, str(_package_dir))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], timeout: float = 10
) -> None:
    """Wait until ``port`` accepts connections; fail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited with {process.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            if probe.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.02)
    pytest.fail(f"nothing listening on port {port} after {timeout} s")


def tool(name: str) -> str:
    """Return the full path of a program the environment must provide."""
    path = shutil.which(name)
    assert path, f"{name} is not installed (requirements_apt.txt)"
    return path


def run(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run a program to completion and return its result (never raises on rc)."""
    return subprocess.run(  # noqa: S603
        args,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def server(
    args: list[str], port: int, log: Path, *, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until the block ends; its output goes to ``log``."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            args, stdout=out, stderr=subprocess.STDOUT, env=env
        )
        try:
            wait_for_port(port, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def clean_env(**extra: str) -> dict[str, str]:
    """Return a minimal environment (PATH, HOME) plus ``extra``."""
    env = {
        key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ
    }
    env.update(extra)
    return env


@dataclass(frozen=True)
class Broker:
    """A running Mosquitto with the stack's configuration."""

    port: int
    username: str
    password: str
    log: Path
    host: str = LOOPBACK


MQTT_USER = "hems"
MQTT_PASSWORD = "broker-Secret-4711"  # noqa: S105


def render_mosquitto_conf(workdir: Path, port: int) -> Path:
    """Write the stack's mosquitto.conf with test paths and a loopback listener."""
    conf = (STACK / "mosquitto" / "mosquitto.conf").read_text()
    replacements = {
        "listener 1883": f"listener {port} {LOOPBACK}",
        "/mosquitto/config/passwd": str(workdir / "passwd"),
        "/mosquitto/data/": f"{workdir / 'data'}/",
    }
    for old, new in replacements.items():
        assert conf.count(old) == 1, f"mosquitto.conf no longer has {old!r}"
        conf = conf.replace(old, new)
    path = workdir / "mosquitto.conf"
    path.write_text(conf)
    return path


@contextmanager
def mosquitto(workdir: Path) -> Iterator[Broker]:
    """Run the real Mosquitto through the stack's entrypoint and config."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = render_mosquitto_conf(workdir, port)
    env = clean_env(
        MQTT_USERNAME=MQTT_USER,
        MQTT_PASSWORD=MQTT_PASSWORD,
        HEMS_MOSQUITTO_PASSWORD_FILE=str(workdir / "passwd"),
        HEMS_MOSQUITTO_DATA_DIR=str(workdir / "data"),
    )
    entrypoint = str(STACK / "mosquitto" / "entrypoint.sh")
    log = workdir / "mosquitto.log"
    with server([entrypoint, tool("mosquitto"), "-c", str(conf)], port, log, env=env):
        yield Broker(port, MQTT_USER, MQTT_PASSWORD, log)


@contextmanager
def open_workdir() -> Iterator[Path]:
    """Make a directory the servers' unprivileged users can reach.

    pytest's own temporary directories are private to root, but Mosquitto and
    NGINX drop to their own users when started as root.
    """
    path = Path(tempfile.mkdtemp(prefix="hems-fleet-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """Return a reachable temporary directory for one test."""
    with open_workdir() as path:
        yield path


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """Mosquitto for one test (it starts in a few milliseconds)."""
    with open_workdir() as path, mosquitto(path) as running:
        yield running


class MqttClient:
    """A paho-mqtt client that records its login outcome and what it receives."""

    TIMEOUT = 5

    def __init__(
        self, broker: Broker, username: str | None, password: str | None
    ) -> None:
        """Prepare a client for ``broker``; ``None`` logs in anonymously."""
        self.connected = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.messages: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.mqtt = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if username is not None:
            self.mqtt.username_pw_set(username, password)
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_message = self._on_message
        self.broker = broker

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        self.reason = reason
        self.connected.set()

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages[message.topic] = message.payload

    def wait_for(
        self, topic: str, payload: bytes | None = None, timeout: float = TIMEOUT
    ) -> bytes:
        """Return the latest payload on ``topic`` once there is one (or ``payload``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                got = self.messages.get(topic)
            if got is not None and payload in (None, got):
                return got
            time.sleep(0.01)
        pytest.fail(f"nothing (or not {payload!r}) received on {topic}")

    def __enter__(self) -> Self:
        """Connect and wait for the broker's answer."""
        self.mqtt.connect(self.broker.host, self.broker.port, keepalive=10)
        self.mqtt.loop_start()
        assert self.connected.wait(self.TIMEOUT), "no CONNACK from the broker"
        return self

    def __exit__(self, *exc: object) -> None:
        """Disconnect and stop the network thread."""
        self.mqtt.disconnect()
        self.mqtt.loop_stop()


def dockerfile_env(dockerfile: Path) -> dict[str, str]:
    """Return the ``ENV`` settings of a Dockerfile, continued lines included."""
    text = dockerfile.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                key, _, value = item.partition("=")
                env[key] = value
    return env


# --- Home Assistant's bootstrap (stack/homeassistant/hems_bootstrap) ---------

BOOTSTRAP_SECRETS = {
    "MQTT_PASSWORD": MQTT_PASSWORD,
    "INFLUXDB_ADMIN_TOKEN": "local-admin-token-1",
}


def make_bundle(root: Path) -> Path:
    """Lay out the image's bundle under ``root``: template, this repo's hems, HACS.

    The image downloads HACS when it is built; the tests have no network, so
    a manifest stands in (Home Assistant loads HACS only once it is added).
    """
    bundle = root / "bundle"
    (bundle / "custom_components").mkdir(parents=True)
    shutil.copyfile(
        STACK / "homeassistant" / "configuration.yaml", bundle / "configuration.yaml"
    )
    shutil.copytree(
        REPO / "custom_components" / "hems",
        bundle / "custom_components" / "hems",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    hacs = bundle / "custom_components" / "hacs"
    hacs.mkdir()
    (hacs / "manifest.json").write_text(
        '{"domain": "hacs", "name": "HACS", "version": "2.0.5"}'
    )
    return bundle


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """Lay out the image's bundle in the test's directory."""
    return make_bundle(tmp_path)


def env_for(config: Path, bundle: Path, **variables: str) -> dict[str, str]:
    """Return the bootstrap's environment (the Dockerfile's ENV plus variables)."""
    return {
        "HEMS_CONFIG_DIR": str(config),
        "HEMS_BUNDLE_DIR": str(bundle),
        "HEMS_MQTT_BROKER": "mosquitto",
        "HEMS_MQTT_PORT": "1883",
        "HEMS_INFLUXDB_URL": "http://influxdb:8086",
        **variables,
    }
