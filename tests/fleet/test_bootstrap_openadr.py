"""The bootstrap's OpenADR VEN and flex policy from the balena variables.

What it writes into the hems entries' options is read back by hems' own
settings reader and validated by hems' options form schema.
"""

import json
from pathlib import Path
import sys
from typing import Any

from hems_bootstrap import MARKER, STORAGE_FILE, bootstrap
from hems_bootstrap.openadr import PEM_DIR
import probatio
import pytest

from custom_components.hems.flex_flow import section_schema
from custom_components.hems.flex_settings import FlexSettings, Policy

from .conftest import BOOTSTRAP_SECRETS as SECRETS, STACK, clean_env, env_for, run

VTN = "https://vtn.aggregator.example/OpenADR2/Simple/2.0b"
# Made-up PEM blocks: the bootstrap checks the form only, hems' VEN the content.
CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIEfakeKeySecret\n-----END PRIVATE KEY-----"
VEN = {
    "HEMS_OPENADR_VTN_URL": VTN,
    "HEMS_OPENADR_VEN_NAME": "home-17",
    "HEMS_OPENADR_POLL_SECONDS": "30",
    "HEMS_FLEX_POLICY": "auto",
}


def hems_entry(entry_id: str = "HEMS1", **options: Any) -> dict[str, Any]:
    """Return a hems entry as Home Assistant stores it after the config flow."""
    return {
        "domain": "hems",
        "entry_id": entry_id,
        "title": "Recorded prices (agile.csv.gz)",
        "data": {"source": "replay", "replay_file": "/config/agile.csv.gz"},
        "options": options,
        "version": 1,
        "minor_version": 1,
    }


def seed(config: Path, *entries: dict[str, Any]) -> None:
    """Write the config entries a previous boot (and the user) left."""
    path = config / STORAGE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"version": 1, "minor_version": 5, "data": {"entries": entries}})
    )


def flex_of(config: Path, entry_id: str = "HEMS1") -> dict[str, Any]:
    """Return the stored flex section of a hems entry."""
    stored = json.loads((config / STORAGE_FILE).read_text())
    (entry,) = [e for e in stored["data"]["entries"] if e["entry_id"] == entry_id]
    return entry["options"].get("flex", {})


@pytest.fixture
def config(tmp_path: Path, bundle: Path) -> Path:
    """Return a /config after a first boot, where the user has since added hems."""
    config = tmp_path / "config"
    bootstrap(env_for(config, bundle, **SECRETS))
    stored = json.loads((config / STORAGE_FILE).read_text())
    stored["data"]["entries"].append(
        hems_entry(flex={"pence_per_point": 0.5, "mqtt_topic": "coop/flex"})
    )
    (config / STORAGE_FILE).write_text(json.dumps(stored))
    return config


def boot(config: Path, bundle: Path, **variables: str) -> list[str]:
    """Start the box again with these variables; return what the bootstrap did."""
    return bootstrap(env_for(config, bundle, **SECRETS, **variables))


def test_variables_become_the_settings_the_options_flow_writes(
    config: Path, bundle: Path
) -> None:
    notes = boot(config, bundle, **VEN)
    assert (
        "hems 'Recorded prices (agile.csv.gz)': OpenADR VEN set for the VTN at "
        "vtn.aggregator.example"
    ) in notes
    assert "hems 'Recorded prices (agile.csv.gz)': flex policy auto_accept" in notes
    flex = flex_of(config)
    assert flex == {
        "pence_per_point": 0.5,
        "mqtt_topic": "coop/flex",
        "openadr_vtn_url": VTN,
        "openadr_ven_name": "home-17",
        "openadr_poll_seconds": 30,
        "policy": "auto_accept",
    }
    # hems' options form accepts the section as it is stored ...
    (marker,) = section_schema()
    form = probatio.Schema(section_schema())
    assert form({marker.schema: flex}) == {marker.schema: flex}
    # ... and hems reads what the fleet meant.
    settings = FlexSettings.from_options({"flex": flex})
    assert settings.vtn_url == VTN
    assert settings.ven_name == "home-17"
    assert settings.poll_seconds == 30
    assert settings.policy is Policy.AUTO_ACCEPT
    assert settings.pence_per_point == 0.5
    assert json.loads((config / MARKER).read_text())["openadr_entries"] == ["HEMS1"]


def test_a_second_boot_changes_nothing(config: Path, bundle: Path) -> None:
    boot(config, bundle, **VEN)
    before = (config / STORAGE_FILE).read_bytes(), (config / MARKER).read_bytes()
    notes = boot(config, bundle, **VEN)
    assert (
        notes[-1] == "hems 'Recorded prices (agile.csv.gz)': flex settings up to date"
    )
    assert not any("set for" in note for note in notes)
    assert ((config / STORAGE_FILE).read_bytes(), (config / MARKER).read_bytes()) == (
        before
    )


def test_the_fleet_variables_win_over_a_later_edit(config: Path, bundle: Path) -> None:
    boot(config, bundle, **VEN)
    stored = json.loads((config / STORAGE_FILE).read_text())
    hems = stored["data"]["entries"][-1]
    hems["options"]["flex"] |= {"openadr_vtn_url": "http://other/", "policy": "ask"}
    hems["options"]["flex"]["openadr_ven_id"] = "old-id"
    (config / STORAGE_FILE).write_text(json.dumps(stored))
    boot(config, bundle, **VEN)
    flex = flex_of(config)
    assert flex["openadr_vtn_url"] == VTN
    assert flex["policy"] == "auto_accept"
    # A VEN setting whose variable is empty is removed, not left behind.
    assert "openadr_ven_id" not in flex


def test_default_ven_name_is_the_device(config: Path, bundle: Path) -> None:
    boot(
        config,
        bundle,
        HEMS_OPENADR_VTN_URL=VTN,
        HEMS_OPENADR_VEN_ID="ven-42",
        BALENA_DEVICE_UUID="f00dfeed1234567890",
    )
    flex = flex_of(config)
    assert flex["openadr_ven_name"] == "hems-f00dfee"
    assert flex["openadr_ven_id"] == "ven-42"
    assert "openadr_poll_seconds" not in flex
    # Without HEMS_FLEX_POLICY the household's choice (none here) stays.
    assert "policy" not in flex


def test_certificate_and_key_become_private_files(config: Path, bundle: Path) -> None:
    # balena variables often carry a PEM on one line with literal \n.
    one_line_key = KEY.replace("\n", "\\n")
    notes = boot(
        config,
        bundle,
        **VEN,
        HEMS_OPENADR_CERT=CERT,
        HEMS_OPENADR_KEY=one_line_key,
        HEMS_OPENADR_VTN_FINGERPRINT="b0:63:1a:2b:3c:4d:5e:6f:70:81",
    )
    flex = flex_of(config)
    cert, key = Path(flex["openadr_cert"]), Path(flex["openadr_key"])
    assert cert == config / PEM_DIR / "cert.pem"
    assert key == config / PEM_DIR / "key.pem"
    assert cert.read_text() == CERT + "\n"
    assert key.read_text() == KEY + "\n"
    for path in (cert, key, cert.parent):
        assert path.stat().st_mode & 0o077 == 0
    assert flex["openadr_vtn_fingerprint"] == "B0:63:1A:2B:3C:4D:5E:6F:70:81"
    assert not any("MIIEfakeKeySecret" in note for note in notes)
    # Removing the secrets removes the paths (the VEN stops signing).
    boot(config, bundle, **VEN)
    assert {"openadr_cert", "openadr_key"} & set(flex_of(config)) == set()


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"HEMS_OPENADR_VTN_URL": "vtn.example"}, "HEMS_OPENADR_VTN_URL: not an"),
        (
            {**VEN, "HEMS_OPENADR_POLL_SECONDS": "often"},
            "HEMS_OPENADR_POLL_SECONDS: not a number of seconds >= 1",
        ),
        ({**VEN, "HEMS_OPENADR_POLL_SECONDS": "0"}, "HEMS_OPENADR_POLL_SECONDS: "),
        ({**VEN, "HEMS_FLEX_POLICY": "always"}, "HEMS_FLEX_POLICY: not one of"),
        ({**VEN, "HEMS_OPENADR_CERT": "MIIBfake"}, "HEMS_OPENADR_CERT: not a PEM"),
        ({**VEN, "HEMS_OPENADR_CERT": CERT}, "HEMS_OPENADR_CERT: set together"),
        (
            {**VEN, "HEMS_OPENADR_CERT": CERT, "HEMS_OPENADR_KEY": CERT},
            "HEMS_OPENADR_KEY: not a PEM private key",
        ),
        (
            {**VEN, "HEMS_OPENADR_VTN_FINGERPRINT": "not-hex"},
            "HEMS_OPENADR_VTN_FINGERPRINT: not hex pairs",
        ),
    ],
)
def test_a_bad_value_leaves_the_settings_as_they_were(
    config: Path, bundle: Path, variables: dict[str, str], problem: str
) -> None:
    boot(config, bundle, **VEN)
    before = (config / STORAGE_FILE).read_bytes()
    notes = boot(config, bundle, **variables)
    assert [note for note in notes if note.startswith("HEMS_")] == [
        next(note for note in notes if note.startswith(problem))
    ]
    assert "hems: OpenADR and flex settings left as they were" in notes
    assert (config / STORAGE_FILE).read_bytes() == before
    # The MQTT and InfluxDB entries are still looked after.
    assert "mqtt: up to date" in notes


def test_emptied_url_turns_the_ven_off(config: Path, bundle: Path) -> None:
    boot(config, bundle, **VEN)
    notes = boot(config, bundle)
    assert "hems 'Recorded prices (agile.csv.gz)': OpenADR VEN turned off" in notes
    assert flex_of(config) == {
        "pence_per_point": 0.5,
        "mqtt_topic": "coop/flex",
        "policy": "auto_accept",
    }
    assert json.loads((config / MARKER).read_text())["openadr_entries"] == []


def test_a_users_own_ven_is_left_alone_without_the_variables(
    tmp_path: Path, bundle: Path
) -> None:
    config = tmp_path / "config"
    own = {"openadr_vtn_url": "http://my-vtn/", "policy": "ask"}
    config.mkdir()
    seed(config, hems_entry(flex=own))
    bootstrap(env_for(config, bundle, **SECRETS))
    assert flex_of(config) == own


def test_without_a_hems_entry_it_says_when_the_settings_apply(
    tmp_path: Path, bundle: Path
) -> None:
    notes = bootstrap(env_for(tmp_path / "config", bundle, **SECRETS, **VEN))
    assert notes[-1].startswith("hems: no hems config entry yet")


def test_the_entrypoint_logs_a_bad_value_and_exits_0(
    config: Path, bundle: Path
) -> None:
    variables = {**VEN, "HEMS_OPENADR_CERT": "MIIBsecretish", "HEMS_OPENADR_KEY": KEY}
    env = clean_env(**env_for(config, bundle, **SECRETS, **variables))
    env["PYTHONPATH"] = str(STACK / "homeassistant")
    result = run([sys.executable, "-m", "hems_bootstrap"], env=env)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "hems: HEMS_OPENADR_CERT: not a PEM certificate" in output
    assert "MIIBsecretish" not in output
    assert "MIIEfakeKeySecret" not in output
