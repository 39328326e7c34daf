"""The quality scale file, the licence and the README sections it asks for."""

import json
from pathlib import Path
import re
import tomllib

import homeassistant
import yaml

from tests.conftest import REPO

COMPONENT = REPO / "custom_components" / "hems"
README = (REPO / "README.md").read_text(encoding="utf-8")
STATUSES = {"done", "todo", "exempt"}


def home_assistant_rules() -> set[str]:
    """Every rule the installed Home Assistant's own integrations are graded on."""
    components = Path(homeassistant.__file__).parent / "components"
    rules: set[str] = set()
    for path in components.glob("*/quality_scale.yaml"):
        rules |= set(yaml.safe_load(path.read_text(encoding="utf-8"))["rules"])
    return rules


def our_rules() -> dict[str, str | dict[str, str]]:
    data = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text("utf-8"))
    assert set(data) == {"rules"}
    rules: dict[str, str | dict[str, str]] = data["rules"]
    return rules


def status(rule: str | dict[str, str]) -> str:
    return rule if isinstance(rule, str) else rule["status"]


def section(heading: str) -> str:
    """Return the README's text under ``heading`` up to the next heading."""
    pattern = rf"^{re.escape(heading)}\n(.*?)(?=^#+ )"
    match = re.search(pattern, README, re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no {heading!r}"
    return match.group(1)


def test_every_rule_has_an_honest_status() -> None:
    rules = our_rules()
    expected = home_assistant_rules()
    assert len(expected) > 50  # the scale has 54 rules in 2026.10
    assert set(rules) == expected
    for name, rule in rules.items():
        assert status(rule) in STATUSES, name
        if isinstance(rule, dict):
            assert set(rule) <= {"status", "comment"}, name
            assert rule.get("comment") or status(rule) == "done", name
        assert status(rule) != "exempt" or isinstance(rule, dict), name


def test_documentation_rules_marked_done_have_their_sections() -> None:
    rules = our_rules()
    sections = {
        "docs-removal-instructions": "## Removing hems",
        "docs-troubleshooting": "## Troubleshooting",
        "docs-known-limitations": "## Known limitations",
        "docs-examples": "### Automation examples",
        "docs-actions": "### Loads",  # the Services paragraph lives there
    }
    for name, heading in sections.items():
        assert status(rules[name]) == "done", name
        assert section(heading).strip(), heading
    assert "hems.set_requirement" in section("### Loads")


def test_every_repair_issue_is_explained_in_troubleshooting() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
    troubleshooting = section("## Troubleshooting")
    for key, issue in strings["issues"].items():
        title = re.sub(r"\{\w+\}", "...", issue["title"])
        assert title in troubleshooting, key


def test_licence_is_gpl_3_or_later_everywhere() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "GPL-3.0-or-later"
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.split()[:4] == ["GNU", "GENERAL", "PUBLIC", "LICENSE"]
    assert "Version 3, 29 June 2007" in licence
    assert "Licence: GPL-3.0-or-later (`LICENSE`)" in README


def test_manifest_hacs_and_project_agree() -> None:
    manifest = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
    hacs = json.loads((REPO / "hacs.json").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert manifest["name"] == hacs["name"]
    assert manifest["version"] == project["project"]["version"]
    minimum = ".".join(hacs["homeassistant"].split(".")[:2])
    assert f"Requires Home Assistant {minimum} or newer." in README
    pins = (REPO / "requirements_test.txt").read_text(encoding="utf-8").split()
    assert set(manifest["requirements"]) <= set(pins)
