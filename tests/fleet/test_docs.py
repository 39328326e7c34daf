"""The fleet operators' documentation keeps up with the stack."""

import re

from .conftest import REPO, STACK
from .test_compose import build_of, compose, fleet_variables, from_lines

FLEET_DOC = " ".join((REPO / "docs" / "fleet.md").read_text().split())


def readme_section() -> str:
    """Return README.md's "Fleet operators" section."""
    readme = (REPO / "README.md").read_text()
    pattern = r"^## Fleet operators\n(.*?)(?=^## )"
    match = re.search(pattern, readme, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no Fleet operators section"
    return " ".join(match.group(1).split())


def ha_version() -> str:
    text = (STACK / "homeassistant" / "Dockerfile").read_text()
    (version,) = re.findall(r"^ARG HA_VERSION=(\S+)$", text, re.MULTILINE)
    return version


def test_every_variable_is_documented() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", FLEET_DOC))
    assert set(fleet_variables()) - documented == set()


def test_readme_section_covers_what_operators_need() -> None:
    section = readme_section()
    for topic in (
        "**Variables**",
        "**First boot**",
        "**Updating Home Assistant**",
        "**Where data goes**",
    ):
        assert topic in section
    assert "[docs/fleet.md](docs/fleet.md)" in section
    assert "final patch release of the previous month" in section
    assert ha_version() in section
    for volume in compose()["volumes"]:
        assert f"`{volume}`" in section


def test_fleet_doc_states_the_update_rule_and_the_pins() -> None:
    assert (
        "**the fleet runs the final patch release of the previous month.**" in FLEET_DOC
    )
    assert f"it is {ha_version()} now" in FLEET_DOC
    assert "`ARG HA_VERSION`" in FLEET_DOC
    for name in ("mosquitto", "influxdb", "proxy"):
        (image,) = from_lines(build_of(compose()["services"][name])[1])
        assert f"`{image}`" in FLEET_DOC, image
    requirement = (STACK / "configurator" / "requirements.txt").read_text()
    (pin,) = re.findall(r"^hass-configurator==\S+$", requirement, re.MULTILINE)
    assert pin in FLEET_DOC
