"""A newcomer's onboarding of the development Home Assistant leaves a clean log.

HA's onboarding adds default integrations (Met.no, Radio Browser, Google
Translate, shopping list) at its core config step; the development config
has that step done already (``scripts/develop`` seeds it), so none of them is
added, and none fails for want of its packages or the network.
"""

import re
import time

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


SETTLING = {"not_loaded", "setup_in_progress"}


def _settled_entries(home_assistant: HomeAssistant) -> list[dict[str, object]]:
    """Config entries once none is still being set up (HA sets them up in turn)."""
    deadline = time.monotonic() + 60
    while True:
        entries: list[dict[str, object]] = home_assistant.api(
            "GET", "/api/config/config_entries/entry"
        )
        states = {entry["state"] for entry in entries}
        if states.isdisjoint(SETTLING) or time.monotonic() > deadline:
            return entries
        time.sleep(0.5)


def test_onboarding_adds_no_integration(home_assistant: HomeAssistant) -> None:
    entries = _settled_entries(home_assistant)
    domains = {entry["domain"] for entry in entries}
    assert "hems" in domains
    assert domains.isdisjoint(ONBOARDING_DEFAULTS), domains
    assert {entry["state"] for entry in entries} == {"loaded"}, entries
    steps = home_assistant.api("GET", "/api/onboarding")
    assert all(step["done"] for step in steps), steps
