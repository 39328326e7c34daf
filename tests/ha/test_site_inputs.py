"""Solar forecast sensors and the "Solar and house load" options, without a recorder.

Recorded Solcast and Forecast.Solar sensor states (tests/fixtures) are
replayed onto the test's days, as the forecast integrations would show them.
"""

from datetime import UTC, date, datetime, timedelta
import json
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.hems.const import DOMAIN
from custom_components.hems.diagnostics import async_get_config_entry_diagnostics
from custom_components.hems.site_inputs import MeterIds, forecast_entries, meter_ids
from custom_components.hems.site_options import InputSettings
from tests.household import FIXTURES

from .conftest import FakeOctopus
from .helpers import EVENING, PUBLISHED, entity, set_up

SLOT = timedelta(minutes=30)
UK = ZoneInfo("Europe/London")
# The recorded Solcast "today" (Sydney, 2025-10-06) becomes the test's today.
SOLCAST_SHIFT = date(2025, 10, 6) - date(2020, 9, 27)
FORECAST_SOLAR_SHIFT = date(2025, 10, 5) - date(2020, 9, 27)
TODAY = "sensor.solcast_pv_forecast_forecast_today"
TOMORROW = "sensor.solcast_pv_forecast_forecast_tomorrow"


def shifted(value: Any, shift: timedelta) -> Any:
    return (datetime.fromisoformat(value) - shift).isoformat()


def solcast_states(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Show the recorded Solcast sensors, replayed onto the test's days."""
    states = json.loads((FIXTURES / "solcast_forecast_sample.json").read_text())
    for recorded in states:
        attributes = dict(recorded["attributes"])
        for key in ("detailedForecast", "detailedHourly"):
            attributes[key] = [
                {**item, "period_start": shifted(item["period_start"], SOLCAST_SHIFT)}
                for item in attributes[key]
            ]
        attributes["unit_of_measurement"] = "kWh"
        recorded["attributes"] = attributes
        hass.states.async_set(recorded["entity_id"], recorded["state"], attributes)
    return states


def forecast_solar_states(hass: HomeAssistant) -> list[str]:
    """Show the recorded Forecast.Solar sensors (4 planes, today and tomorrow)."""
    states = json.loads((FIXTURES / "forecast_solar_ha_sensor_sample.json").read_text())
    for recorded in states:
        attributes = dict(recorded["attributes"])
        for key in ("watts", "wh_period"):
            attributes[key] = {
                shifted(moment, FORECAST_SOLAR_SHIFT): value
                for moment, value in attributes[key].items()
            }
        hass.states.async_set(recorded["entity_id"], recorded["state"], attributes)
    return [recorded["entity_id"] for recorded in states]


def p10_kw(states: list[dict[str, Any]], slot: datetime) -> float:
    """Return the P10 kW of Solcast's today and tomorrow sensors at ``slot``."""
    for recorded in states:
        if recorded["entity_id"] not in (TODAY, TOMORROW):
            continue
        for item in recorded["attributes"]["detailedForecast"]:
            if datetime.fromisoformat(item["period_start"]) == slot:
                return item["pv_estimate10"]
    return 0.0


async def options(
    hass: HomeAssistant, entry_id: str, section_data: dict[str, Any], **more: Any
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**more, "solar_house": section_data}
    )
    await hass.async_block_till_done()
    return dict(result)


SENSOR_SECTION = {
    "forecast_source": "sensor",
    "forecast_entities": [TODAY, TOMORROW],
    "estimate": "p10",
    "learn_base_load": True,
    "learn_weeks": 4.0,
    "learn_statistic": "median",
}


async def test_the_section_refuses_what_cannot_be_used(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = {str(key): value for key, value in result["data_schema"].schema.items()}
    assert isinstance(fields["solar_house"], section)
    assert fields["solar_house"].options == {"collapsed": True}

    async def submit(**changes: Any) -> dict[str, Any]:
        data = {**SENSOR_SECTION, **changes}
        return dict(
            await hass.config_entries.options.async_configure(
                result["flow_id"], {"solar_house": data}
            )
        )

    answer = await submit(forecast_entities=[])
    assert answer["errors"] == {"forecast_entities": "forecast_entity_required"}
    answer = await submit(forecast_entities=["sensor.nothing_here"])
    assert answer["errors"] == {"forecast_entities": "forecast_entity_not_found"}
    assert answer["description_placeholders"]["forecast_entity"] == (
        "sensor.nothing_here"
    )
    hass.states.async_set("sensor.outside", "12", {"unit_of_measurement": "°C"})
    answer = await submit(forecast_entities=["sensor.outside"])
    assert answer["errors"] == {"forecast_entities": "no_forecast_attribute"}
    hass.states.async_set(
        "sensor.solcast_power_now",
        "2100",
        {"unit_of_measurement": "W", "detailedForecast": []},
    )
    answer = await submit(forecast_entities=["sensor.solcast_power_now"])
    assert answer["errors"] == {"forecast_entities": "forecast_wrong_unit"}
    assert answer["description_placeholders"] == {
        "forecast_entity": "sensor.solcast_power_now",
        "unit": "W",
    }
    with pytest.raises(Exception, match="learn_weeks"):
        await submit(learn_weeks=13)

    solcast_states(hass)
    answer = await submit()
    assert answer["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["solar_house"] == {**SENSOR_SECTION, "learn_weeks": 4}

    # The form shows what is set; another source drops the sensors.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    marker = next(k for k in result["data_schema"].schema if str(k) == "solar_house")
    inner = result["data_schema"].schema[marker].schema.schema
    suggested = {
        str(key): key.description["suggested_value"] for key in inner if key.description
    }
    assert suggested["forecast_entities"] == [TODAY, TOMORROW]
    answer = await submit(forecast_source="none")
    assert answer["type"] is FlowResultType.CREATE_ENTRY
    assert "forecast_entities" not in entry.options["solar_house"]


async def test_solcast_sensors_give_the_pessimistic_forecast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    states = solcast_states(hass)
    entry = await set_up(hass)
    assert (await options(hass, entry.entry_id, SENSOR_SECTION))["type"] is (
        FlowResultType.CREATE_ENTRY
    )
    plan = hass.states.get(entity(hass, "sensor", "HEMS_planned_cost_total"))
    slots = [datetime.fromisoformat(slot["start"]) for slot in plan.attributes["slots"]]
    assert plan.attributes["pv_kw"] == pytest.approx(
        [p10_kw(states, slot) for slot in slots], abs=1e-4
    )
    assert max(plan.attributes["pv_kw"]) > 5

    today = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_today"))
    start = datetime(2020, 9, 26, 23, tzinfo=UTC)  # local midnight (BST)
    by_hand = sum(p10_kw(states, start + i * SLOT) / 2 for i in range(48))
    assert float(today.state) == pytest.approx(by_hand, abs=0.01)
    assert today.attributes["estimate"] == "p10"
    assert today.attributes["from"] == [TODAY, TOMORROW]
    assert today.attributes["unit_of_measurement"] == "kWh"
    tomorrow = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_tomorrow"))
    assert float(tomorrow.state) > 0

    # Solcast updates its sensor: hems reads it again at once.
    hass.states.async_set(TOMORROW, "0", {"unit_of_measurement": "kWh"})
    hass.states.async_remove(TODAY)
    await hass.async_block_till_done()
    # The second change, within the first's cooldown, is read 10 s later.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "no_solar_forecast_HEMS")
    assert issue is not None
    assert issue.translation_placeholders["reason"] == (
        f"{TODAY} does not exist; {TOMORROW}: no forecast attribute; "
        f"{TOMORROW} has no forecast"
    )
    solcast_states(hass)
    await entry.runtime_data.solar.async_refresh()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None


async def test_forecast_solar_sensors_of_four_planes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entities = forecast_solar_states(hass)
    entry = await set_up(hass)
    section_data = {**SENSOR_SECTION, "forecast_entities": entities, "estimate": "p50"}
    assert (await options(hass, entry.entry_id, section_data))["type"] is (
        FlowResultType.CREATE_ENTRY
    )
    states = {entity_id: hass.states.get(entity_id) for entity_id in entities}
    total = sum(float(state.state) for state in states.values())
    forecast = entry.runtime_data.solar.data.forecast
    assert sum(forecast.kwh.values()) == pytest.approx(total)


async def test_without_recorder_or_energy_dashboard(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    """Nothing there: the configured base load, no solar, no repair issue."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, options={"base_load_kw": 0.45})
    await hass.async_block_till_done(wait_background_tasks=True)
    plan = entry.runtime_data.plan.data
    assert set(plan.base_load()) == {0.45}
    assert set(entry.runtime_data.solar.pv_kw(plan.slot_starts)) == {0.0}
    error = hass.states.get(entity(hass, "sensor", "HEMS_base_load_forecast_error"))
    assert error.state == "unknown"
    assert error.attributes["status"] == "the recorder is not running"
    today = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_today"))
    assert today.state == "unknown"
    assert today.attributes["problems"] == ["the Energy dashboard is not set up"]
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, "no_solar_forecast_HEMS") is None
    assert issues.async_get_issue(DOMAIN, "house_load_not_learnt_HEMS") is None
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["house_load"]["status"] == "the recorder is not running"
    assert diagnostics["solar"]["source"] == "energy"
    assert diagnostics["solar"]["half_hours"] == 0

    # Planning without solar on purpose: no forecast is read at all.
    await options(hass, entry.entry_id, {**SENSOR_SECTION, "forecast_source": "none"})
    today = hass.states.get(entity(hass, "sensor", "HEMS_solar_forecast_today"))
    assert today.attributes["source"] == "none"
    assert today.attributes["problems"] == []


def test_meters_of_the_current_and_the_legacy_grid_form() -> None:
    preferences = {
        "energy_sources": [
            {
                "type": "grid",
                "flow_from": [{"stat_energy_from": "sensor.day"}],
                "flow_to": [{"stat_energy_to": "sensor.export"}],
            },
            {
                "type": "grid",
                "stat_energy_from": "sensor.night",
                "stat_energy_to": None,
            },
            {"type": "grid", "stat_energy_from": "sensor.night"},
            {"type": "gas", "stat_energy_from": "sensor.gas"},
            {
                "type": "solar",
                "stat_energy_from": "sensor.pv",
                "config_entry_solar_forecast": ["a", "b"],
            },
            {
                "type": "solar",
                "stat_energy_from": "sensor.pv2",
                "config_entry_solar_forecast": ["b"],
            },
            {
                "type": "battery",
                "stat_energy_from": "sensor.out",
                "stat_energy_to": "sensor.in",
            },
        ]
    }
    assert meter_ids(preferences) == MeterIds(
        grid_import=("sensor.day", "sensor.night"),
        grid_export=("sensor.export",),
        solar=("sensor.pv", "sensor.pv2"),
        battery_in=("sensor.in",),
        battery_out=("sensor.out",),
    )
    assert forecast_entries(preferences) == ["a", "b"]
    assert meter_ids(None) == MeterIds()


def test_settings_that_cannot_be_used_are_the_defaults() -> None:
    assert InputSettings.from_options({}) == InputSettings()
    assert InputSettings.from_options({"solar_house": "junk"}) == InputSettings()
    odd = InputSettings.from_options(
        {
            "solar_house": {
                "forecast_source": "crystal ball",
                "forecast_entities": "sensor.one",
                "estimate": None,
                "learn_weeks": "many",
                "learn_statistic": 5,
            }
        }
    )
    assert odd == InputSettings(forecast_entities=("sensor.one",))
    assert InputSettings.from_options({"solar_house": {"learn_weeks": 99}}).weeks == 12
