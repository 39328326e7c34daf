"""The whole fleet box in the lab (netlab.py): each compose service a real process.

Every service starts from its ``stack/<service>/`` entrypoint and configuration,
with the variables of balena.yml plus the test's secrets, in the network
namespace named after it. Only paths are pointed at the test's directory
(through the knobs the entrypoints and images already have); service names,
ports, the upstream names and the DNS address of the configurations stay as
they are. The programs are the environment's: Debian's Mosquitto and NGINX,
Home Assistant and Hass-Configurator from the test requirements; InfluxDB is
the OpenAPI-faithful fake (fake_influxdb.py), started by the stack's InfluxDB
entrypoint in place of the image's own.
"""

from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import sys
from typing import Any

from .conftest import REPO, STACK, dockerfile_env, make_bundle, tool
from .netlab import CLOUD_NET, Lab, Service
from .test_compose import compose, fleet_variables

ADDRESSES = {
    "homeassistant": "172.20.0.2",
    "mosquitto": "172.20.0.3",
    "influxdb": "172.20.0.4",
    "replication": "172.20.0.5",
    "configurator": "172.20.0.6",
    "proxy": "172.20.0.7",
    "wifi-repeater": "172.20.0.8",
}
VTN_HOST = "vtn.aggregator.test"
CLOUD_INFLUX_HOST = "eu-central-1-1.aws.cloud2.influxdata.test"
ALIASES = {VTN_HOST: f"{CLOUD_NET}.2", CLOUD_INFLUX_HOST: f"{CLOUD_NET}.2"}
VTN_URL = f"http://{VTN_HOST}:8080/OpenADR2/Simple/2.0b"
# The secrets an operator sets (balena dashboard), and the device's own.
SECRETS = {
    "MQTT_PASSWORD": "broker-Secret-4711",
    "INFLUXDB_ADMIN_PASSWORD": "influx-Admin-pw",
    "INFLUXDB_ADMIN_TOKEN": "local-admin-token-1",
    "INFLUXDB_CLOUD_URL": f"https://{CLOUD_INFLUX_HOST}",
    "INFLUXDB_CLOUD_TOKEN": "cloud-write-token-2",
    "INFLUXDB_CLOUD_ORG_ID": "a1b2c3d4e5f60718",
    "PROXY_PASSWORD": "proxy-Pass-1234",
    "BALENA_DEVICE_UUID": "f00dfeed1234567890",
    "REPLICATION_POLL_SECONDS": "2",
}
OPENADR = {
    "HEMS_OPENADR_VTN_URL": VTN_URL,
    "HEMS_OPENADR_VEN_NAME": "home-17",
    "HEMS_OPENADR_POLL_SECONDS": "1",
    "HEMS_FLEX_POLICY": "auto",
}


@dataclass
class Box:
    """The running stack: the lab, its directory and the services by name."""

    lab: Lab
    root: Path
    variables: dict[str, str]
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        """Return the ``ha-config`` volume (Home Assistant's /config)."""
        return self.root / "volumes" / "ha-config"

    def base_env(self, dockerfile: Path | None = None, **extra: str) -> dict[str, str]:
        """Return a container's environment: its Dockerfile ENV and the variables."""
        env = {"PATH": _path(), "HOME": str(self.root), "LANG": "C.UTF-8"}
        if dockerfile is not None:
            env |= dockerfile_env(dockerfile)
        env |= self.variables
        env |= extra
        return env

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Service:
        """Start a service in its namespace."""
        service = self.lab.spawn(name, args, netns=name, env=env, cwd=self.root)
        self.services[name] = service
        return service


def _path() -> str:
    """Return PATH with the test environment's programs first."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])


def new_box(root: Path) -> Box:
    """Make the lab for every compose service (not started)."""
    assert set(compose()["services"]) == set(ADDRESSES), "a service has no address"
    variables = {**fleet_variables(), **SECRETS}
    (root / "volumes").mkdir()
    lab = Lab(root, dict(ADDRESSES), dict(ALIASES))
    return Box(lab, root, variables)


def start_dns(box: Box) -> Service:
    """Start the embedded-DNS stand-in in every namespace (as Docker has)."""
    namespaces = [f"/run/netns/{name}" for name in ADDRESSES]
    args = [sys.executable, "-m", "tests.fleet.embedded_dns", str(box.root / "hosts")]
    env = box.base_env(PYTHONPATH=str(REPO))
    service = box.lab.spawn("dns", [*args, *namespaces], netns="device", env=env)
    box.services["dns"] = service
    return service


def start_mosquitto(box: Box) -> Service:
    """Start Mosquitto through its entrypoint (password file, data: test dir)."""
    folder = box.root / "mosquitto"
    folder.mkdir(mode=0o755)
    conf = (STACK / "mosquitto" / "mosquitto.conf").read_text()
    conf = conf.replace("/mosquitto/config/passwd", str(folder / "passwd"))
    conf = conf.replace(
        "/mosquitto/data/", f"{box.root / 'volumes' / 'mosquitto-data'}/"
    )
    (folder / "mosquitto.conf").write_text(conf)
    env = box.base_env(
        STACK / "mosquitto" / "Dockerfile",
        HEMS_MOSQUITTO_PASSWORD_FILE=str(folder / "passwd"),
        HEMS_MOSQUITTO_DATA_DIR=str(box.root / "volumes" / "mosquitto-data"),
    )
    entrypoint = str(STACK / "mosquitto" / "entrypoint.sh")
    args = [entrypoint, tool("mosquitto"), "-c", str(folder / "mosquitto.conf")]
    return box.start("mosquitto", args, env)


def start_influxdb(box: Box) -> Service:
    """Start the stack's InfluxDB entrypoint, handing over to the fake InfluxDB."""
    folder = box.root / "influxdb"
    folder.mkdir()
    upstream = folder / "upstream-entrypoint.sh"
    upstream.write_text(
        f'#!/bin/sh\n# Stands in for the image\'s /entrypoint.sh: "$*" is "influxd".\n'
        f"exec {sys.executable} -m tests.fleet.fake_influxdb\n"
    )
    upstream.chmod(0o755)
    env = box.base_env(
        STACK / "influxdb" / "Dockerfile",
        HEMS_INFLUXDB_UPSTREAM_ENTRYPOINT=str(upstream),
        HEMS_INFLUXDB_BOLT_PATH=str(box.root / "volumes" / "influxdb-data" / "bolt"),
        PYTHONPATH=str(REPO),
    )
    args = [str(STACK / "influxdb" / "entrypoint.sh"), "influxd"]
    return box.start("influxdb", args, env)


def start_homeassistant(box: Box, **variables: str) -> Service:
    """Start Home Assistant through its entrypoint (bootstrap, then HA itself).

    The image's init (s6-overlay) runs ``python3 -m homeassistant --config
    /config``; here the entrypoint hands over to the same command.
    ``--skip-pip``: the image has every requirement installed, and the tests
    must not install packages while running.
    """
    bundle = box.root / "bundle"
    if not bundle.exists():
        make_bundle(box.root)
    env = box.base_env(
        STACK / "homeassistant" / "Dockerfile",
        HEMS_CONFIG_DIR=str(box.config),
        HEMS_BUNDLE_DIR=str(bundle),
        HEMS_BOOTSTRAP_HOME=str(STACK / "homeassistant"),
        HEMS_HOMEASSISTANT_INIT=sys.executable,
        **variables,
    )
    args = [
        str(STACK / "homeassistant" / "entrypoint.sh"),
        "-m",
        "homeassistant",
        "--config",
        str(box.config),
        "--skip-pip",
    ]
    service = box.lab.spawn(
        "homeassistant", args, netns="homeassistant", env=env, cwd=box.config.parent
    )
    box.services["homeassistant"] = service
    return service


def start_replication(box: Box) -> Service:
    """Start the replication sidecar as its image runs it (``python -m``)."""
    env = box.base_env(
        STACK / "replication" / "Dockerfile",
        PYTHONPATH=str(STACK / "replication"),
    )
    return box.start("replication", [sys.executable, "-m", "replication_sidecar"], env)


def start_configurator(box: Box) -> Service:
    """Start Hass-Configurator through its entrypoint, on the ha-config volume."""
    env = box.base_env(
        STACK / "configurator" / "Dockerfile", HC_BASEPATH=str(box.config)
    )
    args = [str(STACK / "configurator" / "entrypoint.sh"), tool("hass-configurator")]
    return box.start("configurator", args, env)


def start_proxy(box: Box) -> Service:
    """Start NGINX through its entrypoint (the configuration's paths: test dir)."""
    folder = box.root / "proxy"
    folder.mkdir(mode=0o755)
    conf = (STACK / "proxy" / "nginx.conf").read_text()
    conf = conf.replace("pid /run/nginx.pid;", f"pid {folder / 'nginx.pid'};")
    conf = conf.replace("/etc/nginx/hems/htpasswd", str(folder / "htpasswd"))
    (folder / "nginx.conf").write_text(conf)
    env = box.base_env(
        STACK / "proxy" / "Dockerfile",
        HEMS_NGINX_HTPASSWD=str(folder / "htpasswd"),
        # Debian's NGINX runs its workers as nobody:nogroup (no `user` line).
        HEMS_NGINX_GROUP="nogroup",
    )
    args = [
        str(STACK / "proxy" / "entrypoint.sh"),
        tool("nginx"),
        "-c",
        str(folder / "nginx.conf"),
        "-p",
        f"{folder}/",
        "-e",
        "stderr",
        "-g",
        "daemon off;",
    ]
    return box.start("proxy", args, env)


def start_wifi_repeater(box: Box) -> Service:
    """Run the wifi-repeater's entrypoint with the fleet's variables (off)."""
    env = box.base_env(STACK / "wifi-repeater" / "Dockerfile")
    return box.start(
        "wifi-repeater", [str(STACK / "wifi-repeater" / "entrypoint.sh")], env
    )


def start_vtn(box: Box, events: list[dict[str, Any]]) -> Service:
    """Start the aggregator's VTN in the cloud namespace."""
    (box.root / "vtn-events.json").write_text(json.dumps(events))
    record = box.root / "vtn-record.jsonl"
    record.touch()
    args = [
        sys.executable,
        "-m",
        "tests.fleet.cloud_vtn",
        str(box.root / "vtn-events.json"),
        str(record),
    ]
    env = box.base_env(PYTHONPATH=str(REPO))
    service = box.lab.spawn("vtn", args, netns="cloud", env=env, cwd=REPO)
    box.services["vtn"] = service
    return service
