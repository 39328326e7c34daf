"""Home Assistant's first boot on the fleet box (stack/homeassistant).

The bootstrap runs against a temporary /config; what it writes is then read
by Home Assistant's own code: the configuration schema of ``http``, the
config entry storage loader, and (end to end) the MQTT integration connecting
with the seeded entry to the real Mosquitto, where the replication sidecar's
discovery turns into a problem entity.
"""

import asyncio
import importlib.util
import json
from pathlib import Path
import re
import shutil
import sys
from types import ModuleType

from hems_bootstrap import MARKER, STORAGE_FILE, bootstrap
from homeassistant.components.http import HTTP_SCHEMA
from homeassistant.components.mqtt.const import (
    CONFIG_ENTRY_MINOR_VERSION,
    CONFIG_ENTRY_VERSION,
)
from homeassistant.config_entries import ConfigEntries, ConfigFlow
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util.yaml import load_yaml
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from replication_sidecar.health import Report
from replication_sidecar.mqtt import Reporter

from .conftest import BOOTSTRAP_SECRETS, STACK, Broker, clean_env, env_for, run

TEMPLATE = STACK / "homeassistant" / "configuration.yaml"
SECRETS = BOOTSTRAP_SECRETS


@pytest.fixture
def hass_config_dir(tmp_path: Path) -> str:
    """Give the test Home Assistant the /config the bootstrap writes."""
    return str(tmp_path / "config")


def stored_entries(config: Path) -> dict[str, dict]:
    """Return the stored config entries by domain."""
    stored = json.loads((config / STORAGE_FILE).read_text())
    return {entry["domain"]: entry for entry in stored["data"]["entries"]}


def influxdb_const() -> ModuleType:
    """Load HA's influxdb const.py alone (its package needs the v1 client)."""
    spec = importlib.util.find_spec("homeassistant.components")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    path = Path(spec.submodule_search_locations[0]) / "influxdb" / "const.py"
    module_spec = importlib.util.spec_from_file_location("_ha_influxdb_const", path)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_first_boot_installs_everything(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    notes = bootstrap(env_for(config, bundle, **SECRETS))
    assert notes[0] == "first boot"
    assert (config / "configuration.yaml").read_text() == TEMPLATE.read_text()
    hems_manifest = json.loads(
        (config / "custom_components" / "hems" / "manifest.json").read_text()
    )
    assert hems_manifest["domain"] == "hems"
    assert not list((config / "custom_components" / "hems").rglob("__pycache__"))
    assert (config / "custom_components" / "hacs" / "manifest.json").exists()
    assert f"installed custom_components/hems {hems_manifest['version']}" in notes
    marker = json.loads((config / MARKER).read_text())
    entries = stored_entries(config)
    assert set(entries) == {"mqtt", "influxdb"}
    assert marker["entries"] == {d: e["entry_id"] for d, e in entries.items()}
    assert entries["mqtt"]["data"] == {
        "broker": "mosquitto",
        "port": 1883,
        "username": "hems",
        "password": SECRETS["MQTT_PASSWORD"],
        "protocol": "5",
    }
    assert entries["influxdb"]["data"] == {
        "api_version": "2",
        "url": "http://influxdb:8086",
        "token": SECRETS["INFLUXDB_ADMIN_TOKEN"],
        "organization": "hems",
        "bucket": "home_assistant",
        "verify_ssl": True,
    }
    for entry in entries.values():
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", entry["entry_id"])
    # Secrets on disk are for the owner only.
    assert (config / STORAGE_FILE).stat().st_mode & 0o077 == 0


def test_second_boot_changes_nothing(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    bootstrap(env_for(config, bundle, **SECRETS))
    before = (config / STORAGE_FILE).read_bytes(), (config / MARKER).read_bytes()
    notes = bootstrap(env_for(config, bundle, **SECRETS))
    assert notes == ["mqtt: up to date", "influxdb: up to date"]
    assert (
        (config / STORAGE_FILE).read_bytes(),
        (config / MARKER).read_bytes(),
    ) == before


def test_changed_variables_reach_the_entries(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    bootstrap(env_for(config, bundle, **SECRETS))
    first = stored_entries(config)
    stored = json.loads((config / STORAGE_FILE).read_text())
    stored["data"]["entries"].append({"domain": "sun", "entry_id": "SUN", "data": {}})
    (config / STORAGE_FILE).write_text(json.dumps(stored))
    changed = {
        **SECRETS,
        "MQTT_PASSWORD": "rotated",
        "INFLUXDB_HA_TOKEN": "ha-write-token",
        "INFLUXDB_BUCKET": "energy",
    }
    notes = bootstrap(env_for(config, bundle, **changed))
    assert notes == [
        "mqtt: connection settings updated",
        "influxdb: connection settings updated",
    ]
    entries = stored_entries(config)
    assert entries["mqtt"]["data"]["password"] == "rotated"  # noqa: S105
    assert entries["influxdb"]["data"]["token"] == "ha-write-token"  # noqa: S105
    assert entries["influxdb"]["data"]["bucket"] == "energy"
    assert entries["influxdb"]["title"] == "energy (http://influxdb:8086)"
    assert entries["sun"] == {"domain": "sun", "entry_id": "SUN", "data": {}}
    for domain in ("mqtt", "influxdb"):
        assert entries[domain]["entry_id"] == first[domain]["entry_id"]
        assert entries[domain]["created_at"] == first[domain]["created_at"]
        assert entries[domain]["modified_at"] >= first[domain]["modified_at"]


def test_users_choices_are_kept(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    (config / "custom_components" / "hems").mkdir(parents=True)
    (config / "custom_components" / "hems" / "manifest.json").write_text("{}")
    (config / "configuration.yaml").write_text("homeassistant:\n")
    storage = config / STORAGE_FILE
    storage.parent.mkdir()
    own_mqtt = {"domain": "mqtt", "entry_id": "MINE", "data": {"broker": "x"}}
    storage.write_text(
        json.dumps({"version": 1, "minor_version": 5, "data": {"entries": [own_mqtt]}})
    )
    notes = bootstrap(env_for(config, bundle, **SECRETS))
    assert "configuration.yaml exists: kept as it is" in notes
    assert "custom_components/hems exists: kept as it is" in notes
    assert "mqtt: an entry of the user's exists, kept" in notes
    assert (config / "configuration.yaml").read_text() == "homeassistant:\n"
    assert (config / "custom_components/hems/manifest.json").read_text() == "{}"
    entries = stored_entries(config)
    assert entries["mqtt"] == own_mqtt
    assert "influxdb" in entries
    # A later boot still leaves the user's entry alone.
    bootstrap(env_for(config, bundle, **SECRETS))
    assert stored_entries(config)["mqtt"] == own_mqtt


def test_deleted_entry_stays_deleted(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    bootstrap(env_for(config, bundle, **SECRETS))
    stored = json.loads((config / STORAGE_FILE).read_text())
    stored["data"]["entries"] = [
        e for e in stored["data"]["entries"] if e["domain"] != "mqtt"
    ]
    (config / STORAGE_FILE).write_text(json.dumps(stored))
    shutil.rmtree(config / "custom_components" / "hems")
    notes = bootstrap(env_for(config, bundle, **SECRETS))
    assert "mqtt: the fleet's entry was deleted, not recreated" in notes
    assert set(stored_entries(config)) == {"influxdb"}
    # hems is HACS's to manage after the first boot.
    assert not (config / "custom_components" / "hems").exists()


def test_secrets_set_after_first_boot(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    notes = bootstrap(env_for(config, bundle))
    assert "MQTT_PASSWORD is not set: no MQTT connection for Home Assistant" in notes
    assert any(
        n.startswith("INFLUXDB_ADMIN_TOKEN (or INFLUXDB_HA_TOKEN)") for n in notes
    )
    assert not (config / STORAGE_FILE).exists()
    notes = bootstrap(env_for(config, bundle, **SECRETS))
    assert notes == ["mqtt: config entry created", "influxdb: config entry created"]


def test_entrypoint_module_logs_no_secret(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    env = clean_env(**env_for(config, bundle, **SECRETS))
    env["PYTHONPATH"] = str(STACK / "homeassistant")
    result = run([sys.executable, "-m", "hems_bootstrap"], env=env)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "hems: mqtt: config entry created" in output
    for secret in SECRETS.values():
        assert secret not in output
    assert secret not in (config / MARKER).read_text()


def test_configuration_template_is_valid_for_home_assistant() -> None:
    config = load_yaml(TEMPLATE)
    assert config is not None
    http = HTTP_SCHEMA(config["http"])
    assert http["use_x_forwarded_for"] is True
    trusted = {str(net) for net in http["trusted_proxies"]}
    assert {"172.16.0.0/12", "127.0.0.1/32"} <= trusted
    assert "default_config" in config
    # No connection settings in YAML: HA 2026.10 raises a repair issue for those.
    const = influxdb_const()
    connection_keys = {key.schema for key in const.COMPONENT_CONFIG_SCHEMA_CONNECTION}
    assert connection_keys & set(config["influxdb"]) == set()
    assert "mqtt" not in config


def test_seeded_entries_match_home_assistant(tmp_path: Path, bundle: Path) -> None:
    config = tmp_path / "config"
    bootstrap(env_for(config, bundle, **SECRETS))
    entries = stored_entries(config)
    assert (entries["mqtt"]["version"], entries["mqtt"]["minor_version"]) == (
        CONFIG_ENTRY_VERSION,
        CONFIG_ENTRY_MINOR_VERSION,
    )
    const = influxdb_const()
    flow = (Path(const.__file__).parent / "config_flow.py").read_text()
    assert "VERSION =" not in flow  # the influxdb flow keeps ConfigFlow's
    assert entries["influxdb"]["version"] == ConfigFlow.VERSION
    assert entries["influxdb"]["minor_version"] == ConfigFlow.MINOR_VERSION
    assert set(entries["influxdb"]["data"]) == {
        const.CONF_API_VERSION,
        "url",
        "token",
        const.CONF_ORG,
        const.CONF_BUCKET,
        "verify_ssl",
    }
    assert entries["influxdb"]["data"][const.CONF_API_VERSION] == const.API_VERSION_2


@pytest.fixture
def seeded_storage(tmp_path: Path, bundle: Path, hass_storage: dict) -> dict[str, dict]:
    """Put what the bootstrap wrote where Home Assistant's storage reads it."""
    config = tmp_path / "config"
    bootstrap(env_for(config, bundle, **SECRETS))
    hass_storage["core.config_entries"] = json.loads(
        (config / STORAGE_FILE).read_text()
    )
    return stored_entries(config)


async def test_home_assistant_loads_the_seeded_entries(
    seeded_storage: dict[str, dict], hass: HomeAssistant
) -> None:
    manager = ConfigEntries(hass, {})
    await manager.async_initialize()
    for domain in ("mqtt", "influxdb"):
        (entry,) = manager.async_entries(domain)
        assert entry.entry_id == seeded_storage[domain]["entry_id"]
        assert dict(entry.data) == seeded_storage[domain]["data"]
        assert entry.source == "user"
        assert entry.disabled_by is None


async def test_home_assistant_shows_a_lost_feed_as_a_problem(
    hass: HomeAssistant, broker: Broker, tmp_path: Path, bundle: Path
) -> None:
    config = tmp_path / "config"
    bootstrap(
        env_for(
            config,
            bundle,
            **SECRETS,
            HEMS_MQTT_BROKER="127.0.0.1",
            HEMS_MQTT_PORT=str(broker.port),
        )
    )
    stored = stored_entries(config)["mqtt"]
    entry = MockConfigEntry(
        domain="mqtt",
        entry_id=stored["entry_id"],
        title=stored["title"],
        data=stored["data"],
        options=stored["options"],
        version=stored["version"],
        minor_version=stored["minor_version"],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    reporter = Reporter(
        "127.0.0.1", broker.port, broker.username, broker.password, "hems_e2e"
    )
    registry = er.async_get(hass)
    try:
        assert await hass.async_add_executor_job(reporter.connect, 5)
        lost = Report(
            problem=True,
            reason="InfluxDB Cloud answered HTTP 401: unauthorized",
            queue_bytes=4096,
            remaining_bytes=4096,
            response_code=401,
            checked_at="2026-11-25T12:00:00+00:00",
        )
        reporter.publish(lost)
        problem_id = await _wait_for_entity(
            hass, registry, "binary_sensor", "hems_e2e_replication_problem"
        )
        queue_id = await _wait_for_entity(
            hass, registry, "sensor", "hems_e2e_replication_queue_bytes"
        )
        await _wait_for_state(hass, problem_id, STATE_ON)
        problem = hass.states.get(problem_id)
        assert problem is not None
        assert problem.attributes["device_class"] == "problem"
        assert problem.attributes["reason"] == lost.reason
        assert problem.attributes["response_code"] == 401
        await _wait_for_state(hass, queue_id, "4096")
        assert hass.states.get(queue_id).attributes["unit_of_measurement"] == "B"

        # Without figures (local InfluxDB down) the sensors are unknown.
        reporter.publish(Report(problem=True, reason="local InfluxDB unreachable"))
        await _wait_for_state(hass, queue_id, STATE_UNKNOWN)
        assert hass.states.get(problem_id).state == STATE_ON

        reporter.publish(Report(problem=False, reason="replicating", queue_bytes=0))
        await _wait_for_state(hass, problem_id, STATE_OFF)
        await _wait_for_state(hass, queue_id, "0")
    finally:
        await hass.async_add_executor_job(reporter.close)
    await _wait_for_state(hass, problem_id, STATE_UNAVAILABLE)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def _wait_for_entity(
    hass: HomeAssistant, registry: er.EntityRegistry, domain: str, unique_id: str
) -> str:
    """Return the entity ID MQTT discovery gave ``unique_id``, waiting for it."""
    for _ in range(200):
        entity_id = registry.async_get_entity_id(domain, "mqtt", unique_id)
        if entity_id is not None:
            return entity_id
        await _tick(hass)
    pytest.fail(f"no {domain} entity for {unique_id}")


async def _wait_for_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Wait until ``entity_id`` has ``state``."""
    for _ in range(200):
        current = hass.states.get(entity_id)
        if current is not None and current.state == state:
            return
        await _tick(hass)
    pytest.fail(f"{entity_id} is {hass.states.get(entity_id)}, not {state}")


async def _tick(hass: HomeAssistant) -> None:
    """Let the broker's messages arrive (real sockets, real time)."""
    await hass.async_block_till_done()
    await asyncio.sleep(0.02)
