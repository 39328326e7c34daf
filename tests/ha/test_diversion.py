"""Live PV surplus diversion in a real Home Assistant, driven by a grid meter."""

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.hems.const import EVENT_DIVERT_STARTED, EVENT_DIVERT_STOPPED
from custom_components.hems.load_config import LoadConfigError, parse_load

from .conftest import FakeOctopus
from .helpers import CAR, PUBLISHED, entity, planned_on, set_up

NOON = datetime(2020, 9, 28, 11, 0, 10, tzinfo=UTC)  # 12:00 BST
HEATER: dict[str, Any] = {
    "kind": "immersion",
    "name": "Hot water",
    "power_kw": 3.0,
    "hours": 1.0,
    "cheaper_than_gas": False,
    "window_start": "00:00",
    "window_end": "00:00",
    "divert_priority": 1,
    "actuator": {"type": "entity", "entity_id": "input_boolean.heater"},
}
SOLAR_CAR = {
    **CAR,
    "divert_priority": 2,
    "window_start": "09:00",
    "window_end": "17:00",
}
GRID = "sensor.grid_power"


async def _meter(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime, watts: float
) -> None:
    """Report ``watts`` (import positive) from the meter at ``when``."""
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    hass.states.async_set(
        GRID, str(watts), {"unit_of_measurement": "W"}, force_update=True
    )
    await hass.async_block_till_done()


@pytest.fixture
async def solar_home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> Any:
    freezer.move_to(NOON)
    octopus.published_until = PUBLISHED
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"heater": {}, "car": {}}}
    )
    hass.states.async_set(GRID, "300", {"unit_of_measurement": "W"})
    return await set_up(
        hass,
        (HEATER, "heater"),
        (SOLAR_CAR, "car"),
        options={"grid_power_entity": GRID, "import_limit_kw": 9.0},
    )


async def test_surplus_goes_to_the_first_load_it_covers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solar_home: Any
) -> None:
    """4 kW of export for two minutes: the heater (3 kW) takes it, the car cannot."""
    entry = solar_home
    assert NOON.replace(minute=0, second=0) not in planned_on(entry, "heater")
    started = async_capture_events(hass, EVENT_DIVERT_STARTED)
    stopped = async_capture_events(hass, EVENT_DIVERT_STOPPED)
    t = NOON
    await _meter(hass, freezer, t, -4000)
    await _meter(hass, freezer, t + timedelta(seconds=90), -4000)
    assert hass.states.get("input_boolean.heater").state == STATE_OFF
    await _meter(hass, freezer, t + timedelta(seconds=125), -4000)
    assert hass.states.get("input_boolean.heater").state == STATE_ON
    assert hass.states.get("input_boolean.car").state == STATE_OFF
    assert [event.data["load_id"] for event in started] == ["heater"]

    # A cloud: importing, but the heater keeps its minimum five minutes.
    await _meter(hass, freezer, t + timedelta(minutes=3), 1500)
    await _meter(hass, freezer, t + timedelta(minutes=5, seconds=30), 1500)
    assert hass.states.get("input_boolean.heater").state == STATE_ON
    await _meter(hass, freezer, t + timedelta(minutes=7, seconds=10), 1500)
    assert hass.states.get("input_boolean.heater").state == STATE_OFF
    assert [event.data["load_id"] for event in stopped] == ["heater"]

    # Five minutes on PV surplus, booked as the heater's and as diverted.
    diverted = float(
        hass.states.get(entity(hass, "sensor", "HEMS_diverted_energy_today")).state
    )
    assert diverted == pytest.approx(3 * (5 + 5 / 60) / 60, abs=0.01)
    runs = entry.runtime_data.plan.state.load("heater").runs
    assert sum(runs.values()) == pytest.approx((5 + 5 / 60) / 30, abs=0.01)


async def test_the_switch_turns_diversion_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solar_home: Any
) -> None:
    """Diversion off: what it switched on goes back to the plan, nothing new starts."""
    t = NOON
    await _meter(hass, freezer, t, -11000)
    await _meter(hass, freezer, t + timedelta(seconds=125), -11000)
    assert hass.states.get("input_boolean.heater").state == STATE_ON
    switch = entity(hass, "switch", "HEMS_solar_diversion")
    assert hass.states.get(switch).attributes["diverting"] == ["Hot water"]
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": switch}, blocking=True
    )
    assert hass.states.get("input_boolean.heater").state == STATE_OFF
    await _meter(hass, freezer, t + timedelta(minutes=6), -11000)
    await _meter(hass, freezer, t + timedelta(minutes=9), -11000)
    assert hass.states.get("input_boolean.heater").state == STATE_OFF
    assert hass.states.get("input_boolean.car").state == STATE_OFF


async def test_the_plan_is_never_switched_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solar_home: Any
) -> None:
    """A car the plan runs stays on while the house imports."""
    entry = solar_home
    hass.states.async_set("input_boolean.car", STATE_ON)
    await hass.services.async_call(
        "hems",
        "override",
        {
            "entity_id": entity(hass, "switch", "car_automatic"),
            "state": "on",
        },
        blocking=True,
    )
    t = NOON
    for seconds in (0, 130, 400, 700):
        await _meter(hass, freezer, t + timedelta(seconds=seconds), 8000)
    assert hass.states.get("input_boolean.car").state == STATE_ON
    assert entry.runtime_data.plan.diverter.diverted == {}


async def test_settings_are_checked(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solar_home: Any
) -> None:
    """An unknown grid sensor and a priority of 10 are refused in plain words."""
    entry = solar_home
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_power_entity": "sensor.nope"}
    )
    assert result["errors"] == {"grid_power_entity": "entity_not_found"}
    with pytest.raises(LoadConfigError) as caught:
        parse_load("x", {**HEATER, "divert_priority": 10})
    assert caught.value.key == "out_of_range"
    assert caught.value.field == "divert_priority"
