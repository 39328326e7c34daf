"""Helpers for hems tests: loads, set-up, the clock, reading entities."""

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.hems.const import DOMAIN
from tests.conftest import agile_history

from .conftest import PRODUCT


def entity_id(hass: HomeAssistant, platform: str, entry_id: str, key: str) -> str:
    """Return the entity id of a hems entity from its unique id."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry_id}_{key}"
    )
    assert found is not None, f"no {platform} entity {key}"
    return found


def state(hass: HomeAssistant, platform: str, entry_id: str, key: str) -> State:
    """Return the state of a hems entity."""
    found = hass.states.get(entity_id(hass, platform, entry_id, key))
    assert found is not None
    return found


def real_price(start: datetime) -> float:
    """Return the recorded Agile price of the slot starting at ``start``."""
    for slot_start, _, value in agile_history():
        if slot_start == start:
            return value
    raise KeyError(start)


def real_prices(start: datetime, end: datetime) -> list[float]:
    """Return the recorded Agile prices of the slots starting in [start, end)."""
    return [value for slot, _, value in agile_history() if start <= slot < end]


SLOT = timedelta(minutes=30)
EVENING = datetime(2020, 9, 27, 16, 10, tzinfo=UTC)  # 17:10 BST
PUBLISHED = datetime(2020, 9, 28, 23, tzinfo=UTC)

CAR: dict[str, Any] = {
    "kind": "ev_charger",
    "name": "Car",
    "power_kw": 7.0,
    "hours": 2.0,
    "window_start": "18:00",
    "window_end": "07:00",
    "actuator": {"type": "entity", "entity_id": "input_boolean.car"},
}
WASHER: dict[str, Any] = {
    "kind": "washing_machine",
    "name": "Washer",
    "profile_kwh": [0.526, 0.046, 0.079, 0.002],
    "window_start": "20:00",
    "window_end": "08:00",
    "actuator": {"type": "entity", "entity_id": "input_boolean.washer"},
}
BATTERY: dict[str, Any] = {
    "kind": "battery",
    "name": "Battery",
    "capacity_kwh": 4.0,
    "charge_kw": 2.0,
    "discharge_kw": 2.0,
    "efficiency": 0.9,
    "min_soc_kwh": 0.0,
    "soc_entity": "sensor.battery_soc",
    "actuator": {
        "type": "select",
        "entity_id": "input_select.inverter",
        "options": {
            "normal": "Self use",
            "charge_only": "Hold",
            "force_charge": "Grid charge",
        },
    },
}


def subentry(data: dict[str, Any], subentry_id: str) -> dict[str, Any]:
    return {
        "data": data,
        "subentry_type": "load",
        "title": data["name"],
        "unique_id": None,
        "subentry_id": subentry_id,
    }


async def set_up(
    hass: HomeAssistant,
    *loads: tuple[dict[str, Any], str],
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"source": "octopus", "region": "A", "product": PRODUCT},
        options=options or {},
        entry_id="HEMS",
        subentries_data=[subentry(data, load_id) for data, load_id in loads],
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime
) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    # Time listeners run as background tasks (a re-plan among them).
    await hass.async_block_till_done(wait_background_tasks=True)


def planned_on(entry: MockConfigEntry, load_id: str) -> list[datetime]:
    schedule = entry.runtime_data.plan.data
    assert schedule is not None
    return [
        start
        for start, on in zip(
            schedule.slot_starts, schedule.loads[load_id].on, strict=True
        )
        if on
    ]


def entity(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None
    return found


def plan_state(hass: HomeAssistant) -> State:
    """Return the plan sensor's state (the plan's cost, the plan as attributes)."""
    found = hass.states.get(entity(hass, "sensor", "HEMS_planned_cost_total"))
    assert found is not None
    return found


def plan_slots(hass: HomeAssistant) -> dict[datetime, dict[str, Any]]:
    """Return the plan sensor's per-slot attributes by start."""
    return {
        datetime.fromisoformat(slot["start"]): slot
        for slot in plan_state(hass).attributes["slots"]
    }
