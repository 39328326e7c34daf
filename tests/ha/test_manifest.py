"""The integration's metadata files follow hassfest's and HACS's rules."""

import json
import struct

from tests.conftest import REPO

COMPONENT = REPO / "custom_components" / "hems"
# Keys HACS accepts in hacs.json (hacs/integration validate/manifest schema).
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}


def test_manifest_keys_ordered_and_complete() -> None:
    manifest = json.loads((COMPONENT / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    required = {
        "domain",
        "name",
        "codeowners",
        "config_flow",
        "documentation",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "requirements",
        "version",
    }
    assert required <= set(manifest)
    assert manifest["domain"] == "hems"
    assert manifest["config_flow"] is True
    assert all("==" in requirement for requirement in manifest["requirements"])


def test_hacs_json_uses_only_accepted_keys() -> None:
    hacs = json.loads((REPO / "hacs.json").read_text())
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"]
    major, minor, _ = (int(part) for part in hacs["homeassistant"].split("."))
    assert (major, minor) >= (2026, 10)


def test_translations_match_strings() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    english = json.loads((COMPONENT / "translations" / "en.json").read_text())
    assert strings == english


def test_every_entity_has_a_name_and_an_icon() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())["entity"]
    icons = json.loads((COMPONENT / "icons.json").read_text())["entity"]
    for platform, keys in strings.items():
        assert set(keys) == set(icons[platform]), platform


def test_brand_icon_is_a_256_px_png() -> None:
    data = (COMPONENT / "brand" / "icon.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (256, 256)
