"""Prepare Home Assistant's /config on the hems fleet box before HA starts.

First boot (no ``/config/.hems_bootstrapped``): copy the template
``configuration.yaml`` (unless one exists), hems and HACS from the image's
bundle into ``/config/custom_components`` (unless present: HACS manages both
afterwards), and create the MQTT and InfluxDB config entries.

Every start: bring the credentials of those two config entries in line with
the balena variables, so a changed ``MQTT_PASSWORD`` or token reaches Home
Assistant. Only the entries the fleet box created are touched; one the user
deleted stays deleted, and one of the user's own is never replaced. Then hems'
OpenADR VEN and flex policy from the ``HEMS_OPENADR_*`` / ``HEMS_FLEX_POLICY``
variables (openadr.py). Home Assistant is not running yet, so editing
``.storage`` is safe.

Standard library only (it runs on the Home Assistant image's Python). Secret
values never appear in what it logs.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import logging
import os
from pathlib import Path
import secrets
import shutil
from typing import Any

from . import openadr

_LOGGER = logging.getLogger("hems_bootstrap")

MARKER = ".hems_bootstrapped"
STORAGE_FILE = Path(".storage") / "core.config_entries"
# The config entry storage format of Home Assistant 2026.10.
STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 5
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True, kw_only=True)
class EntrySpec:
    """A config entry the fleet box manages: what Home Assistant should hold."""

    domain: str
    title: str
    version: int
    minor_version: int
    data: dict[str, Any]


def _env(env: Mapping[str, str], name: str, default: str = "") -> str:
    """Return a variable's value, treating an empty one as unset."""
    return env.get(name) or default


def managed_entries(env: Mapping[str, str]) -> tuple[list[EntrySpec], list[str]]:
    """Return the entries the variables allow, and a note per missing secret."""
    specs: list[EntrySpec] = []
    notes: list[str] = []
    mqtt_password = _env(env, "MQTT_PASSWORD")
    if mqtt_password:
        broker = _env(env, "HEMS_MQTT_BROKER", "mosquitto")
        specs.append(
            EntrySpec(
                domain="mqtt",
                title=broker,
                version=2,
                minor_version=1,
                data={
                    "broker": broker,
                    "port": int(_env(env, "HEMS_MQTT_PORT", "1883")),
                    "username": _env(env, "MQTT_USERNAME", "hems"),
                    "password": mqtt_password,
                    "protocol": "5",
                },
            )
        )
    else:
        notes.append("MQTT_PASSWORD is not set: no MQTT connection for Home Assistant")
    token = _env(env, "INFLUXDB_HA_TOKEN") or _env(env, "INFLUXDB_ADMIN_TOKEN")
    if token:
        url = _env(env, "HEMS_INFLUXDB_URL", "http://influxdb:8086")
        bucket = _env(env, "INFLUXDB_BUCKET", "home_assistant")
        specs.append(
            EntrySpec(
                domain="influxdb",
                title=f"{bucket} ({url})",
                version=1,
                minor_version=1,
                data={
                    "api_version": "2",
                    "url": url,
                    "token": token,
                    "organization": _env(env, "INFLUXDB_ORG", "hems"),
                    "bucket": bucket,
                    "verify_ssl": True,
                },
            )
        )
    else:
        notes.append(
            "INFLUXDB_ADMIN_TOKEN (or INFLUXDB_HA_TOKEN) is not set: "
            "Home Assistant does not write to InfluxDB"
        )
    return specs, notes


def new_entry_id(now: datetime) -> str:
    """Return a ULID, the form of Home Assistant's config entry IDs."""
    value = (int(now.timestamp() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _read_json(path: Path) -> Any:
    """Return a JSON file's content, or None if it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError:
        return None


def _write_private(path: Path, content: str) -> None:
    """Write a file readable by its owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.hems-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    tmp.replace(path)


def install_bundle(config: Path, bundle: Path) -> list[str]:
    """Copy the configuration template, hems and HACS into /config if absent."""
    notes = []
    target = config / "configuration.yaml"
    if target.exists():
        notes.append("configuration.yaml exists: kept as it is")
    else:
        shutil.copyfile(bundle / "configuration.yaml", target)
        notes.append("configuration.yaml written from the fleet template")
    for name in ("hems", "hacs"):
        source = bundle / "custom_components" / name
        dest = config / "custom_components" / name
        if dest.exists():
            notes.append(f"custom_components/{name} exists: kept as it is")
            continue
        shutil.copytree(
            source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        version = _read_json(source / "manifest.json") or {}
        notes.append(
            f"installed custom_components/{name} {version.get('version', '')}".rstrip()
        )
    return notes


def _storage_entry(spec: EntrySpec, entry_id: str, now: datetime) -> dict[str, Any]:
    """Return a config entry as Home Assistant stores it."""
    stamp = now.isoformat()
    return {
        "created_at": stamp,
        "data": dict(spec.data),
        "discovery_keys": {},
        "disabled_by": None,
        "domain": spec.domain,
        "entry_id": entry_id,
        "minor_version": spec.minor_version,
        "modified_at": stamp,
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": spec.title,
        "unique_id": None,
        "version": spec.version,
    }


def sync_entries(
    config: Path,
    specs: list[EntrySpec],
    managed: dict[str, str],
    now: datetime,
) -> list[str]:
    """Create or update the managed config entries; update ``managed`` in place.

    ``managed`` maps a domain to the ID of the entry the fleet box created for
    it (kept in the marker file across boots).
    """
    path = config / STORAGE_FILE
    stored = _read_json(path)
    if path.exists() and not isinstance(stored, dict):
        return [f"{STORAGE_FILE} is unreadable: config entries left alone"]
    if stored is None:
        stored = {
            "version": STORAGE_VERSION,
            "minor_version": STORAGE_MINOR_VERSION,
            "key": "core.config_entries",
            "data": {"entries": []},
        }
    if (version := stored.get("version")) != STORAGE_VERSION:
        return [f"{STORAGE_FILE} has storage version {version}: entries left alone"]
    entries: list[dict[str, Any]] = stored.setdefault("data", {}).setdefault(
        "entries", []
    )
    by_id = {entry.get("entry_id"): entry for entry in entries}
    notes = []
    changed = False
    for spec in specs:
        entry_id = managed.get(spec.domain)
        if entry_id is None:
            if any(entry.get("domain") == spec.domain for entry in entries):
                notes.append(f"{spec.domain}: an entry of the user's exists, kept")
                continue
            entry_id = new_entry_id(now)
            entries.append(_storage_entry(spec, entry_id, now))
            managed[spec.domain] = entry_id
            notes.append(f"{spec.domain}: config entry created")
            changed = True
            continue
        entry = by_id.get(entry_id)
        if entry is None:
            notes.append(f"{spec.domain}: the fleet's entry was deleted, not recreated")
            continue
        data = {**entry.get("data", {}), **spec.data}
        if data != entry.get("data") or entry.get("title") != spec.title:
            entry["data"] = data
            entry["title"] = spec.title
            entry["modified_at"] = now.isoformat()
            notes.append(f"{spec.domain}: connection settings updated")
            changed = True
        else:
            notes.append(f"{spec.domain}: up to date")
    if changed:
        _write_private(path, json.dumps(stored, indent=2) + "\n")
    return notes


def sync_flex(config: Path, env: Mapping[str, str], managed: list[str]) -> list[str]:
    """Apply the OpenADR and flex variables to the hems entries (openadr.py)."""
    want, problems = openadr.wanted(env)
    if want is None:
        return [*problems, "hems: OpenADR and flex settings left as they were"]
    path = config / STORAGE_FILE
    stored = _read_json(path)
    if not isinstance(stored, dict) or stored.get("version") != STORAGE_VERSION:
        entries: list[dict[str, Any]] = []
    else:
        entries = stored.get("data", {}).get("entries", [])
    changed, notes = openadr.apply(entries, want, config, managed)
    if changed:
        _write_private(path, json.dumps(stored, indent=2) + "\n")
    return notes


def bootstrap(env: Mapping[str, str], now: datetime | None = None) -> list[str]:
    """Run the first-boot install (once) and the entry sync; return what it did."""
    now = now or datetime.now(UTC)
    config = Path(_env(env, "HEMS_CONFIG_DIR", "/config"))
    bundle = Path(_env(env, "HEMS_BUNDLE_DIR", "/usr/src/hems/bundle"))
    marker_path = config / MARKER
    notes: list[str] = []
    marker = _read_json(marker_path) if marker_path.exists() else None
    first_boot = not marker_path.exists()
    if first_boot:
        config.mkdir(parents=True, exist_ok=True)
        notes.append("first boot")
        notes += install_bundle(config, bundle)
        marker = {"bootstrapped_at": now.isoformat(), "entries": {}}
    elif not isinstance(marker, dict):
        marker = {"entries": {}}
    managed: dict[str, str] = dict(marker.get("entries") or {})
    specs, missing = managed_entries(env)
    notes += missing
    notes += sync_entries(config, specs, managed, now)
    flex_managed: list[str] = list(marker.get("openadr_entries") or [])
    notes += sync_flex(config, env, flex_managed)
    if (
        first_boot
        or managed != marker.get("entries")
        or flex_managed != list(marker.get("openadr_entries") or [])
    ):
        marker["entries"] = managed
        marker["openadr_entries"] = flex_managed
        _write_private(marker_path, json.dumps(marker, indent=2) + "\n")
    return notes


def main() -> int:
    """Bootstrap from the process environment and log each step."""
    logging.basicConfig(level=logging.INFO, format="hems: %(message)s")
    for note in bootstrap(os.environ):
        _LOGGER.info("%s", note)
    return 0
