"""A newcomer's onboarding of the development Home Assistant leaves a clean log.

HA's onboarding adds default integrations (Met.no, Radio Browser, Google
Translate, shopping list) at its core config step; the development config
has that step done already (``scripts/develop`` seeds it), so none of them is
added, and none fails for want of its packages or the network.
"""

import re

import pytest

from .conftest import HomeAssistant

pytestmark = pytest.mark.e2e

ONBOARDING_DEFAULTS = {"google_translate", "met", "radio_browser", "shopping_list"}
PROBLEM = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) |^Traceback ")


def test_onboarding_leaves_no_error_in_the_log(home_assistant: HomeAssistant) -> None:
    log = home_assistant.config_dir / "home-assistant.log"
    problems = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if PROBLEM.match(line)
    ]
    assert problems == [], home_assistant.log_tail(80)


def test_onboarding_adds_no_integration(home_assistant: HomeAssistant) -> None:
    entries = home_assistant.api("GET", "/api/config/config_entries/entry")
    domains = {entry["domain"] for entry in entries}
    assert "hems" in domains
    assert domains.isdisjoint(ONBOARDING_DEFAULTS), domains
    assert {entry["state"] for entry in entries} == {"loaded"}, entries
    steps = home_assistant.api("GET", "/api/onboarding")
    assert all(step["done"] for step in steps), steps
