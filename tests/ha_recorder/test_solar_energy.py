"""The Energy dashboard's solar forecasts, through their integrations' energy platforms.

Two forecast integrations are stood in for by test integrations whose energy
platform returns a recorded forecast, replayed onto the test's days: the
Forecast.Solar API response as the core integration hands it over (its
``wh_period``, period ends), and the Solcast API payload as the Solcast
integration hands it over (Wh of the half-hour starting at each time).
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
import json
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy.data import async_get_manager
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_platform,
)

from custom_components.hems.const import DOMAIN
from tests.ha.conftest import FakeOctopus
from tests.ha.helpers import entity, set_up, tick
from tests.household import FIXTURES

SLOT = timedelta(minutes=30)
UK = ZoneInfo("Europe/London")
NOW = datetime(2020, 12, 26, 9, 10, tzinfo=UTC)  # Boxing Day, 09:10 GMT
SOLCAST_SHIFT = date(2024, 12, 27) - date(2020, 12, 26)
FORECAST_SOLAR_SHIFT = date(2024, 4, 27) - date(2020, 12, 26)

type Forecast = Callable[[HomeAssistant, str], Awaitable[dict[str, Any] | None]]


def solcast_wh_hours() -> dict[str, float]:
    """Return the recorded Solcast payload as the Solcast integration gives it."""
    payload = json.loads((FIXTURES / "solcast_api_forecasts_sample.json").read_text())
    wh = {}
    for item in payload["forecasts"]:
        end = datetime.fromisoformat(item["period_end"][:19] + "+00:00")
        if item["pv_estimate"] > 0:
            wh[(end - SLOT - SOLCAST_SHIFT).isoformat()] = item["pv_estimate"] * 500
    return wh


def forecast_solar_wh_hours() -> dict[str, float]:
    """Return the recorded Forecast.Solar response as the core integration does."""
    result = json.loads((FIXTURES / "forecast_solar_sample.json").read_text())
    return {
        (datetime.fromisoformat(key) - FORECAST_SOLAR_SHIFT).isoformat(): value
        for key, value in result["result"]["watt_hours_period"].items()
    }


class Platforms:
    """Energy platforms of two forecast integrations, and their answers."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Register both platforms and a config entry of each."""
        self.answers: dict[str, dict[str, Any] | None] = {
            "solcast_solar": {"wh_hours": solcast_wh_hours()},
            "forecast_solar": {"wh_hours": forecast_solar_wh_hours()},
        }
        self.entries = {}
        for domain, title in (
            ("solcast_solar", "Solcast PV Forecast"),
            ("forecast_solar", "Garage roof"),
        ):
            hass.config.components.add(domain)
            mock_platform(
                hass,
                f"{domain}.energy",
                SimpleNamespace(async_get_solar_forecast=self._answer(domain)),
            )
            entry = MockConfigEntry(domain=domain, title=title)
            entry.add_to_hass(hass)
            self.entries[domain] = entry.entry_id

    def _answer(self, domain: str) -> Forecast:
        async def forecast(hass: HomeAssistant, entry_id: str) -> dict[str, Any] | None:
            assert entry_id == self.entries[domain]
            answer = self.answers[domain]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return forecast


async def energy_prefs(hass: HomeAssistant, sources: list[dict[str, Any]]) -> None:
    assert await async_setup_component(hass, "energy", {})
    manager = await async_get_manager(hass)
    await manager.async_update({"energy_sources": sources})


def solar_source(*entry_ids: str) -> dict[str, Any]:
    return {
        "type": "solar",
        "stat_energy_from": "sensor.solar_production",
        "config_entry_solar_forecast": list(entry_ids),
    }


def expected_kw(slot: datetime) -> float:
    """Return both recorded forecasts' power in a half-hour, off the raw data."""
    solcast = solcast_wh_hours().get(slot.isoformat(), 0.0) / 500
    # Forecast.Solar: the 30-minute period ending half an hour later.
    ends = {
        datetime.fromisoformat(key): wh for key, wh in forecast_solar_wh_hours().items()
    }
    return solcast + ends.get(slot + SLOT, 0.0) / 500


def plan_attributes(hass: HomeAssistant) -> dict[str, Any]:
    state = hass.states.get(entity(hass, "sensor", "HEMS_planned_cost_total"))
    assert state is not None
    return dict(state.attributes)


async def test_forecasts_of_the_energy_dashboard_are_added_up(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 12, 26, 23, tzinfo=UTC)
    platforms = Platforms(hass)
    await energy_prefs(hass, [solar_source(*platforms.entries.values())])
    await set_up(hass)

    attributes = plan_attributes(hass)
    slots = [datetime.fromisoformat(slot["start"]) for slot in attributes["slots"]]
    assert slots[0] == datetime(2020, 12, 26, 9, 0, tzinfo=UTC)
    assert len(attributes["pv_kw"]) == len(slots)
    for slot, kw in zip(slots, attributes["pv_kw"], strict=True):
        assert kw == pytest.approx(expected_kw(slot), abs=1e-3), slot
    # Both forecasts are in it.
    solcast = solcast_wh_hours()
    assert any(solcast.get(slot.isoformat()) for slot in slots)
    ends = {
        datetime.fromisoformat(k): wh for k, wh in forecast_solar_wh_hours().items()
    }
    assert any(ends.get(slot + SLOT) for slot in slots)

    # Today's and tomorrow's totals: the energy of both, day by day.
    today = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_today"))
    by_hand = sum(
        expected_kw(datetime(2020, 12, 26, tzinfo=UTC) + i * SLOT) / 2
        for i in range(48)
    )
    assert float(today.state) == pytest.approx(by_hand, abs=0.01)
    assert today.attributes["source"] == "energy"
    assert sorted(today.attributes["from"]) == ["Garage roof", "Solcast PV Forecast"]
    tomorrow = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_tomorrow"))
    assert float(tomorrow.state) > 0
    assert ir.async_get(hass).async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None


async def test_no_forecast_is_a_repair_issue_until_it_comes_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    """Nothing is invented: no PV, and the householder is told why."""
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 12, 26, 23, tzinfo=UTC)
    platforms = Platforms(hass)
    await energy_prefs(hass, [solar_source(platforms.entries["solcast_solar"])])
    await set_up(hass)
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None

    platforms.answers["solcast_solar"] = None
    await tick(hass, freezer, NOW + timedelta(minutes=31))
    issue = issues.async_get_issue(DOMAIN, "no_solar_forecast_HEMS")
    assert issue is not None
    assert issue.translation_key == "no_solar_forecast"
    assert issue.severity is ir.IssueSeverity.WARNING
    reason = issue.translation_placeholders["reason"]
    assert reason == "Solcast PV Forecast has no forecast now"
    assert set(plan_attributes(hass)["pv_kw"]) == {0.0}
    state = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_today"))
    assert state.state == "unknown"

    platforms.answers["solcast_solar"] = RuntimeError("API down")
    await tick(hass, freezer, NOW + timedelta(minutes=62))
    issue = issues.async_get_issue(DOMAIN, "no_solar_forecast_HEMS")
    assert (
        "failed: RuntimeError('API down')" in issue.translation_placeholders["reason"]
    )

    platforms.answers["solcast_solar"] = {"wh_hours": solcast_wh_hours()}
    await tick(hass, freezer, NOW + timedelta(minutes=93))
    assert issues.async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None
    assert max(plan_attributes(hass)["pv_kw"]) > 0.1


async def test_a_forecast_entry_that_is_gone_or_gives_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 12, 26, 23, tzinfo=UTC)
    platforms = Platforms(hass)
    no_platform = MockConfigEntry(domain="weather_thing", title="Weather")
    no_platform.add_to_hass(hass)
    platforms.answers["forecast_solar"] = {"wh_hours": {"soon": 5}}
    await energy_prefs(
        hass,
        [
            solar_source(
                "gone", no_platform.entry_id, platforms.entries["forecast_solar"]
            )
        ],
    )
    await set_up(hass)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "no_solar_forecast_HEMS")
    assert issue is not None
    reason = issue.translation_placeholders["reason"]
    assert "the forecast entry gone no longer exists" in reason
    assert "Weather gives no forecast to Home Assistant" in reason
    assert "Garage roof: wh_hours: 'soon' is not a time with a time zone" in reason
    assert "Garage roof has an empty forecast" in reason


async def test_a_forecast_that_ended_is_no_forecast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW + timedelta(days=5))
    octopus.published_until = datetime(2020, 12, 31, 23, tzinfo=UTC)
    platforms = Platforms(hass)
    await energy_prefs(hass, [solar_source(platforms.entries["solcast_solar"])])
    await set_up(hass)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "no_solar_forecast_HEMS")
    assert issue is not None
    assert issue.translation_placeholders["reason"] == "the forecast ends before now"


async def test_without_forecasts_in_the_energy_dashboard_nothing_is_asked(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    """No solar forecast set up anywhere: no PV, no repair issue."""
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 12, 26, 23, tzinfo=UTC)
    await energy_prefs(
        hass,
        [{"type": "solar", "stat_energy_from": "sensor.solar_production"}],
    )
    await set_up(hass)
    assert ir.async_get(hass).async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None
    state = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_today"))
    assert state.state == "unknown"
    assert state.attributes["problems"] == [
        "the Energy dashboard's solar panels have no forecast"
    ]


async def test_new_prices_refresh_the_forecast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    """Tomorrow's prices at 16:00 bring the forecast up to date at once."""
    freezer.move_to(datetime(2020, 12, 26, 15, 55, tzinfo=UTC))
    octopus.published_until = datetime(2020, 12, 26, 23, tzinfo=UTC)
    platforms = Platforms(hass)
    await energy_prefs(hass, [solar_source(platforms.entries["solcast_solar"])])
    entry = await set_up(hass)
    platforms.answers["solcast_solar"] = None
    octopus.published_until = datetime(2020, 12, 27, 23, tzinfo=UTC)
    await tick(hass, freezer, datetime(2020, 12, 26, 16, 5, tzinfo=UTC))
    assert entry.runtime_data.prices.data.slots[-1].end == octopus.published_until
    assert entry.runtime_data.solar.data.forecast.empty


async def test_at_start_the_forecast_is_judged_once_home_assistant_has_started(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    """Forecast integrations may be slower to start than hems: no early alarm."""
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 12, 26, 23, tzinfo=UTC)
    platforms = Platforms(hass)
    platforms.answers["solcast_solar"] = None
    await energy_prefs(hass, [solar_source(platforms.entries["solcast_solar"])])
    hass.set_state(CoreState.not_running)
    await set_up(hass)
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None

    platforms.answers["solcast_solar"] = {"wh_hours": solcast_wh_hours()}
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issues.async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None
    assert max(plan_attributes(hass)["pv_kw"]) > 0.1
