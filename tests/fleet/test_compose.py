"""docker-compose.yml and balena.yml: the Compose schemas and balena's rules.

balena deploys a subset of Compose file format 2.4: named volumes only, and no
container_name, env_file, variable substitution or bind mounts. Settings come
from balena variables, so every variable an entrypoint reads must be listed in
balena.yml (secrets without a default).
"""

import ast
from functools import cache
import json
from pathlib import Path
import re
from typing import Any

import jsonschema
import pytest
import yaml

from .conftest import REPO, STACK, dockerfile_env

SCHEMAS = Path(__file__).parent / "schemas"
SERVICES = {
    "homeassistant",
    "mosquitto",
    "influxdb",
    "replication",
    "configurator",
    "proxy",
    "wifi-repeater",
}
BALENA_LABELS = {
    "io.balena.features.balena-socket",
    "io.balena.features.dbus",
    "io.balena.features.sysfs",
    "io.balena.features.procfs",
    "io.balena.features.kernel-modules",
    "io.balena.features.firmware",
    "io.balena.features.journal-logs",
    "io.balena.features.supervisor-api",
    "io.balena.features.balena-api",
    "io.balena.features.gpu",
}
UNSUPPORTED_KEYS = {
    "container_name",
    "env_file",
    "extends",
    "secrets",
    "configs",
    "deploy",
}
SECRET = re.compile(r"PASSWORD|TOKEN|SECRET")
# Read by the upstream wifi-repeater app itself (stack/wifi-repeater/Dockerfile).
READ_BY_UPSTREAM = {"AP_SSID", "WIFI_SSID", "WIFI_PASSWORD", "AP_PASSWORD"}


@cache
def compose() -> dict[str, Any]:
    """Return docker-compose.yml."""
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@cache
def balena() -> dict[str, Any]:
    """Return balena.yml."""
    return yaml.safe_load((REPO / "balena.yml").read_text())


def fleet_variables() -> dict[str, str]:
    """Return balena.yml's variables and their defaults."""
    variables: dict[str, str] = {}
    for item in balena()["data"]["applicationEnvironmentVariables"]:
        assert isinstance(item, dict)
        assert len(item) == 1
        ((name, value),) = item.items()
        assert name not in variables, f"{name} listed twice"
        variables[name] = value
    return variables


def build_of(service: dict[str, Any]) -> tuple[Path, Path]:
    """Return a service's build context and Dockerfile."""
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = REPO / build["context"]
    return context, context / build.get("dockerfile", "Dockerfile")


@pytest.mark.parametrize(
    ("schema", "validator_class"),
    [
        ("compose_spec.json", jsonschema.Draft201909Validator),
        ("config_schema_v2.4.json", jsonschema.Draft4Validator),
    ],
    ids=["spec", "2.4"],
)
def test_compose_file_matches_the_schema(
    schema: str, validator_class: type[jsonschema.protocols.Validator]
) -> None:
    document = json.loads((SCHEMAS / schema).read_text())
    validator_class.check_schema(document)
    errors = list(validator_class(document).iter_errors(compose()))
    assert errors == [], [error.message for error in errors]


def test_schema_validation_catches_mistakes() -> None:
    document = json.loads((SCHEMAS / "config_schema_v2.4.json").read_text())
    validator = jsonschema.Draft4Validator(document)
    broken = json.loads(json.dumps(compose()))
    broken["services"]["proxy"]["ports"] = "80:80"
    broken["services"]["mosquitto"]["restart_policy"] = "always"
    assert len(list(validator.iter_errors(broken))) == 2


def test_format_2_4_with_the_stacks_services() -> None:
    assert compose()["version"] == "2.4"
    assert set(compose()["services"]) == SERVICES
    assert {path.name for path in STACK.iterdir() if path.is_dir()} == SERVICES


def test_no_unsupported_keys_or_variable_substitution() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    assert not re.search(r"\$\{?[A-Za-z_]", text), "balena does no substitution"
    assert not UNSUPPORTED_KEYS & set(compose())
    for name, service in compose()["services"].items():
        assert not UNSUPPORTED_KEYS & set(service), name
        assert "image" not in service, f"{name}: built from stack/{name}"


def test_named_volumes_only() -> None:
    declared = compose()["volumes"]
    assert all(not config for config in declared.values()), "no driver options"
    used = set()
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            assert isinstance(volume, str), f"{name}: short syntax only"
            source, target = volume.split(":")[:2]
            assert source in declared, f"{name}: {source} is not a named volume"
            assert target.startswith("/")
            used.add(source)
    assert used == set(declared)


def test_build_contexts_exist() -> None:
    for name, service in compose()["services"].items():
        context, dockerfile = build_of(service)
        assert context.is_dir(), name
        assert dockerfile.is_file(), name
        assert dockerfile.is_relative_to(STACK / name), f"{name}: files in stack/{name}"


def test_privileges_labels_and_ports() -> None:
    services = compose()["services"]
    privileged = {name for name, s in services.items() if s.get("privileged")}
    assert privileged == {"wifi-repeater"}
    for name, service in services.items():
        assert "network_mode" not in service, name
        assert "cap_add" not in service, name
        assert set(service.get("labels", {})) <= BALENA_LABELS, name
    assert services["wifi-repeater"]["labels"] == {"io.balena.features.dbus": "1"}
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    # From the LAN: the proxy (HTTP, InfluxDB UI) and the broker (login required).
    assert published == {"proxy": ["80:80", "8086:8086"], "mosquitto": ["1883:1883"]}
    assert services["wifi-repeater"]["restart"] == "on-failure"
    assert all(
        s["restart"] == "always" for n, s in services.items() if n != "wifi-repeater"
    )


def from_lines(dockerfile: Path) -> list[str]:
    """Return the base images of a Dockerfile with its ARG defaults applied."""
    text = dockerfile.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, flags=re.MULTILINE))
    images = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    return [
        re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image) for image in images
    ]


def test_base_images_are_pinned() -> None:
    images = {}
    for name, service in compose()["services"].items():
        for image in from_lines(build_of(service)[1]):
            repository, _, tag = image.partition(":")
            assert re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned"
            images.setdefault(name, []).append((repository, tag))
    assert re.fullmatch(r"2\.\d+\.\d+", dict(images["influxdb"])["influxdb"])
    assert re.fullmatch(r"2\.0\.\d+", dict(images["mosquitto"])["eclipse-mosquitto"])
    assert re.fullmatch(r"1\.\d+\.\d+-alpine", dict(images["proxy"])["nginx"])
    ha = dict(images["homeassistant"])["ghcr.io/home-assistant/home-assistant"]
    assert re.fullmatch(r"20\d\d\.\d{1,2}\.\d+", ha)


def test_home_assistant_version_lives_in_one_place() -> None:
    dockerfile = STACK / "homeassistant" / "Dockerfile"
    (version,) = re.findall(
        r"^ARG HA_VERSION=(\S+)$", dockerfile.read_text(), re.MULTILINE
    )
    files = [REPO / "docker-compose.yml", REPO / "balena.yml"]
    files += [p for p in STACK.rglob("*") if p.is_file()]
    holders = [p for p in files if version in p.read_text(errors="ignore")]
    assert holders == [dockerfile]
    assert "home-assistant:" not in (REPO / "docker-compose.yml").read_text()
    # Not older than what the integration supports.
    minimum = json.loads((REPO / "hacs.json").read_text())["homeassistant"]
    as_tuple = lambda v: tuple(int(p) for p in v.split("."))  # noqa: E731
    assert as_tuple(version) >= as_tuple(minimum)


def test_hacs_release_is_pinned_with_a_checksum() -> None:
    text = (STACK / "homeassistant" / "Dockerfile").read_text()
    assert re.search(r"^ARG HACS_VERSION=\d+\.\d+\.\d+$", text, re.MULTILINE)
    assert re.search(r"^ARG HACS_SHA256=[0-9a-f]{64}$", text, re.MULTILINE)
    assert "sha256sum -c -" in text


def test_balena_yml_describes_the_fleet() -> None:
    fleet = balena()
    assert fleet["type"] == "sw.application"
    assert fleet["data"]["defaultDeviceType"] == "raspberrypi4-64"
    assert set(fleet["data"]["supportedDeviceTypes"]) == {
        "raspberrypi4-64",
        "raspberrypi5",
    }
    variables = fleet_variables()
    assert all(isinstance(value, str) for value in variables.values())


def test_secrets_have_no_default() -> None:
    variables = fleet_variables()
    secrets = {name for name in variables if SECRET.search(name)}
    assert {
        "MQTT_PASSWORD",
        "INFLUXDB_ADMIN_TOKEN",
        "INFLUXDB_CLOUD_TOKEN",
        "PROXY_PASSWORD",
    } <= secrets
    assert {name: variables[name] for name in secrets} == dict.fromkeys(secrets, "")
    for name in ("MQTT_USERNAME", "INFLUXDB_ORG", "INFLUXDB_BUCKET", "PROXY_USERNAME"):
        assert variables[name], f"{name} has a safe default"


def shell_reads(script: Path) -> set[str]:
    """Return the variables a shell script reads and does not set itself."""
    text = script.read_text()
    read = set(re.findall(r"\$\{?#?([A-Z][A-Z0-9_]*)", text))
    read |= set(re.findall(r'ENVIRON\["([A-Z][A-Z0-9_]*)"\]', text))
    assigned = set(
        re.findall(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE)
    )
    return read - assigned


def python_reads(package: Path) -> set[str]:
    """Return the upper-case names a package reads from its environment."""
    readers = {"text", "flag", "integer", "_env", "get", "getenv"}
    names = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and len(node.args) >= 1:
                func = node.func
                called = (
                    func.attr
                    if isinstance(func, ast.Attribute)
                    else getattr(func, "id", "")
                )
                for arg in node.args[:2]:
                    if (
                        called in readers
                        and isinstance(arg, ast.Constant)
                        and isinstance(arg.value, str)
                        and re.fullmatch(r"[A-Z][A-Z0-9_]+", arg.value)
                    ):
                        names.add(arg.value)
    return names


def reads_by_service() -> dict[str, set[str]]:
    """Return, per service, the variables its entrypoint or program reads."""
    reads = {
        name: shell_reads(STACK / name / "entrypoint.sh")
        for name in SERVICES - {"replication"}
    }
    reads["replication"] = python_reads(STACK / "replication" / "replication_sidecar")
    reads["homeassistant"] |= python_reads(STACK / "homeassistant" / "hems_bootstrap")
    return reads


def test_every_variable_read_is_listed_in_balena_yml() -> None:
    variables = set(fleet_variables())
    reads = reads_by_service()
    # The scan finds what it should.
    assert {"MQTT_PASSWORD", "INFLUXDB_ADMIN_TOKEN", "HEMS_MQTT_BROKER"} <= reads[
        "homeassistant"
    ]
    assert {"INFLUXDB_CLOUD_TOKEN", "REPLICATION_STALL_SECONDS"} <= reads["replication"]
    for name, names in reads.items():
        internal = set(dockerfile_env(STACK / name / "Dockerfile"))
        injected = {n for n in names if n.startswith("BALENA_")}
        missing = names - internal - injected - variables
        assert missing == set(), f"{name} reads variables balena.yml lacks"
        assert all(n.startswith("HEMS_") for n in names & internal), name


def test_every_listed_variable_is_read() -> None:
    read = set().union(*reads_by_service().values()) | READ_BY_UPSTREAM
    assert set(fleet_variables()) - read == set()
