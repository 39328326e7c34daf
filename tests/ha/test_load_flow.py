"""Adding and editing loads from the UI: every kind and every actuator kind."""

from datetime import UTC, datetime
import json
from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import probatio
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.hems.const import DOMAIN
from custom_components.hems.load_config import MESSAGES

from .conftest import PRODUCT, FakeOctopus


@pytest.fixture
async def entry(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> MockConfigEntry:
    """Return a loaded hems entry without loads."""
    freezer.move_to(datetime(2020, 9, 27, 16, 10, tzinfo=UTC))
    octopus.published_until = datetime(2020, 9, 28, 23, tzinfo=UTC)
    hass.states.async_set("switch.car_charger", "off")
    hass.states.async_set("sensor.battery_soc", "40", {"unit_of_measurement": "%"})
    hass.states.async_set(
        "select.inverter_mode",
        "Self use",
        {"options": ["Self use", "Hold", "Grid charge"]},
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"source": "octopus", "region": "A", "product": PRODUCT},
        entry_id="HEMS",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def start(
    hass: HomeAssistant, entry: MockConfigEntry, kind: str
) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "load"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        "ev_charger",
        "immersion",
        "dishwasher",
        "washing_machine",
        "battery",
    ]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    return dict(result)


async def configure(
    hass: HomeAssistant, flow_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    return dict(await hass.config_entries.subentries.async_configure(flow_id, data))


EV = {
    "name": "Car",
    "power_kw": 7.4,
    "hours": 3,
    "window_start": "18:00:00",
    "window_end": "07:30:00",
}


async def test_ev_charger_with_a_smart_plug(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """An EV charger switched by an existing switch entity; then it is planned."""
    flow = await start(hass, entry, "ev_charger")
    result = await configure(hass, flow["flow_id"], {**EV, "window_end": "18:00:00"})
    assert result["errors"] == {"window_end": "same_times"}
    assert result["description_placeholders"] == {"time": "18:00"}

    result = await configure(hass, flow["flow_id"], EV)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        "entity_actuator",
        "gpio_actuator",
        "i2c_actuator",
        "no_actuator",
    ]
    result = await configure(hass, flow["flow_id"], {"next_step_id": "entity_actuator"})
    result = await configure(hass, flow["flow_id"], {"entity_id": "switch.nope"})
    assert result["errors"] == {"entity_id": "entity_not_found"}
    assert result["description_placeholders"] == {"value": "switch.nope"}
    result = await configure(hass, flow["flow_id"], {"entity_id": "switch.car_charger"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Car"
    await hass.async_block_till_done()

    (subentry,) = entry.subentries.values()
    assert subentry.data["window_end"] == "07:30"
    assert subentry.data["actuator"] == {
        "type": "entity",
        "entity_id": "switch.car_charger",
    }
    # The entry reloaded with the new load, which now has a plan.
    plan = entry.runtime_data.plan
    assert subentry.subentry_id in plan.loads
    assert sum(plan.data.loads[subentry.subentry_id].on) == 6


async def test_dishwasher_with_measured_profile_on_gpio(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A dishwasher with a measured default profile, on a GPIO relay."""
    flow = await start(hass, entry, "dishwasher")
    data = {
        "name": "Dishwasher",
        "profile": "custom",
        "profile_kwh": "",
        "window_start": "21:00:00",
        "window_end": "07:00:00",
    }
    result = await configure(hass, flow["flow_id"], data)
    assert result["errors"] == {"profile_kwh": "profile_needed"}
    result = await configure(
        hass,
        flow["flow_id"],
        {**data, "profile": "dishwasher_eco", "max_cycle_cost": 30},
    )
    result = await configure(hass, flow["flow_id"], {"next_step_id": "gpio_actuator"})
    assert result["step_id"] == "gpio_actuator"
    result = await configure(hass, flow["flow_id"], {"pin": 26, "active_high": False})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    assert subentry.data["profile_kwh"] == [0.331, 0.362, 0.214, 0.016, 0.005]
    assert subentry.data["profile_name"] == "dishwasher_eco"
    assert subentry.data["actuator"] == {
        "type": "gpio",
        "pin": 26,
        "active_high": False,
    }


async def test_washing_machine_custom_profile_on_i2c(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A washing machine with a typed profile on an I2C relay HAT channel."""
    flow = await start(hass, entry, "washing_machine")
    result = await configure(
        hass,
        flow["flow_id"],
        {
            "name": "Washer",
            "profile": "custom",
            "profile_kwh": "0.5, 0.05, 0.08",
            "window_start": "22:00:00",
            "window_end": "08:00:00",
        },
    )
    result = await configure(hass, flow["flow_id"], {"next_step_id": "i2c_actuator"})
    i2c = {"bus": 1, "address": "0x10", "channel": 2, "board": "register_per_channel"}
    result = await configure(hass, flow["flow_id"], {**i2c, "address": "sixteen"})
    assert result["errors"] == {"address": "address_needed"}
    result = await configure(hass, flow["flow_id"], {**i2c, "address": "0x99"})
    assert result["errors"] == {"address": "out_of_range"}
    assert result["description_placeholders"] == {
        "low": "0x03",
        "high": "0x77",
        "unit": "",
        "value": "0x99",
    }
    result = await configure(hass, flow["flow_id"], i2c)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    assert subentry.data["profile_kwh"] == [0.5, 0.05, 0.08]
    assert subentry.data["actuator"]["address"] == 0x10


async def test_immersion_without_switch(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """An immersion heater that is only planned and shown."""
    flow = await start(hass, entry, "immersion")
    result = await configure(
        hass,
        flow["flow_id"],
        {
            "name": "Immersion",
            "power_kw": 3,
            "hours": 2,
            "cheaper_than_gas": True,
            "boiler_efficiency": 0.85,
            "window_start": "00:00:00",
            "window_end": "00:00:00",
        },
    )
    result = await configure(hass, flow["flow_id"], {"next_step_id": "no_actuator"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["actuator"] == {"type": "none"}


async def test_battery_with_inverter_select(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A battery whose modes map onto the inverter's select options."""
    flow = await start(hass, entry, "battery")
    battery = {
        "name": "Battery",
        "capacity_kwh": 5.2,
        "charge_kw": 2.5,
        "discharge_kw": 2.5,
        "efficiency": 0.9,
        "min_soc_kwh": 0.5,
        "soc_entity": "sensor.missing",
    }
    result = await configure(hass, flow["flow_id"], battery)
    assert result["errors"] == {"soc_entity": "entity_not_found"}
    result = await configure(
        hass, flow["flow_id"], {**battery, "soc_entity": "sensor.battery_soc"}
    )
    assert result["menu_options"] == ["select_actuator", "no_actuator"]
    result = await configure(hass, flow["flow_id"], {"next_step_id": "select_actuator"})
    result = await configure(
        hass, flow["flow_id"], {"entity_id": "select.inverter_mode"}
    )
    assert result["step_id"] == "select_options"
    mapping = {
        "normal": "Self use",
        "charge_only": "Hold",
        "force_charge": "Grid charge",
    }
    result = await configure(hass, flow["flow_id"], mapping)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    assert subentry.data["actuator"]["options"] == mapping
    plan = entry.runtime_data.plan
    modes = plan.data.loads[subentry.subentry_id].modes
    assert modes is not None
    assert hass.states.get("select.inverter_mode") is not None


async def test_reconfigure_a_load(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Editing a load shows its values, and saving reloads with the change."""
    flow = await start(hass, entry, "ev_charger")
    result = await configure(hass, flow["flow_id"], EV)
    result = await configure(hass, flow["flow_id"], {"next_step_id": "entity_actuator"})
    result = await configure(hass, flow["flow_id"], {"entity_id": "switch.car_charger"})
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()

    result = await entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["step_id"] == "ev_charger"
    schema = result["data_schema"].schema
    suggested = {
        str(key): key.description["suggested_value"]
        for key in schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested["window_end"] == "07:30:00"
    assert suggested["hours"] == 3
    result = await configure(hass, result["flow_id"], {**EV, "hours": 4})
    assert result["menu_options"][0] == "keep_actuator"
    assert result["description_placeholders"] == {"current": "switch.car_charger"}
    result = await configure(hass, result["flow_id"], {"next_step_id": "keep_actuator"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "load_updated"
    await hass.async_block_till_done()
    assert entry.subentries[subentry.subentry_id].data["hours"] == 4
    assert sum(entry.runtime_data.plan.data.loads[subentry.subentry_id].on) == 8


async def test_site_options(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Import limit and base load are options; an unknown sensor is refused."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"import_limit_kw": 9.0, "base_load_entity": "sensor.nope"}
    )
    assert result["errors"] == {"base_load_entity": "entity_not_found"}
    hass.states.async_set("sensor.house_power", "450", {"unit_of_measurement": "W"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"import_limit_kw": 9.0, "base_load_entity": "sensor.house_power"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data.plan.data is not None
    assert entry.runtime_data.plan.data.base_load_kw == 0.45
    assert entry.runtime_data.plan.data.import_limit_kw == 9.0


async def test_adding_editing_and_deleting_a_load_leaves_the_others_alone(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """One load changes: no other hems entity goes unavailable, nothing reloads."""
    flow = await start(hass, entry, "ev_charger")
    await configure(hass, flow["flow_id"], EV)
    await configure(hass, flow["flow_id"], {"next_step_id": "entity_actuator"})
    await configure(hass, flow["flow_id"], {"entity_id": "switch.car_charger"})
    await hass.async_block_till_done()
    (car,) = entry.subentries
    plan = entry.runtime_data.plan
    changes = async_capture_events(hass, "state_changed")

    registry = er.async_get(hass)
    hems_ids = {
        item.entity_id
        for item in er.async_entries_for_config_entry(registry, entry.entry_id)
    }

    def unavailable() -> set[str]:
        return {
            event.data["entity_id"]
            for event in changes
            if event.data["entity_id"] in hems_ids
            and (
                event.data["new_state"] is None
                or event.data["new_state"].state == "unavailable"
            )
        }

    # Add a second load.
    flow = await start(hass, entry, "immersion")
    await configure(
        hass,
        flow["flow_id"],
        {
            "name": "Hot water",
            "power_kw": 3,
            "hours": 1,
            "cheaper_than_gas": False,
            "boiler_efficiency": 0.9,
            "window_start": "00:00:00",
            "window_end": "00:00:00",
        },
    )
    result = await configure(hass, flow["flow_id"], {"next_step_id": "no_actuator"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (heater,) = set(entry.subentries) - {car}
    assert heater in plan.loads
    assert sum(plan.data.loads[heater].on) >= 2
    heater_entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert any(item.config_subentry_id == heater for item in heater_entities)
    assert unavailable() == set()
    hems_ids = {item.entity_id for item in heater_entities}

    # Edit the car: only its plan changes.
    result = await entry.start_subentry_reconfigure_flow(hass, car)
    result = await configure(hass, result["flow_id"], {**EV, "hours": 4})
    result = await configure(
        hass, result["flow_id"], {"next_step_id": "entity_actuator"}
    )
    result = await configure(
        hass, result["flow_id"], {"entity_id": "switch.car_charger"}
    )
    assert result["reason"] == "load_updated"
    await hass.async_block_till_done()
    assert sum(plan.data.loads[car].on) == 8
    assert unavailable() == set()

    # Delete the heater: its entities go, the car's stay.
    assert hass.config_entries.async_remove_subentry(entry, heater)
    await hass.async_block_till_done()
    assert heater not in plan.loads
    left = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert not any(item.config_subentry_id == heater for item in left)
    gone = unavailable()
    assert gone
    assert all(registry.async_get(entity_id) is None for entity_id in gone)
    assert entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, car), entry.entry_id
    )
    assert device is not None
    assert device.model == "EV charger"


async def test_form_messages_say_the_range_in_plain_words(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Bad values get translated messages; times are rounded, shown without seconds."""
    flow = await start(hass, entry, "ev_charger")
    serialized = probatio.to_field_list(
        flow["data_schema"], custom_serializer=cv.custom_serializer
    )
    times = {item["name"]: item["selector"] for item in serialized}
    assert times["window_start"] == {"time": {"no_second": True}}
    numbers = times["power_kw"]["number"]
    assert "min" not in numbers  # the range is ours, with translated messages

    result = await configure(hass, flow["flow_id"], {**EV, "power_kw": -3})
    assert result["errors"] == {"power_kw": "out_of_range"}
    assert result["description_placeholders"]["low"] == "0.1"
    arrival = {**EV, "window_start": "17:45:00", "window_end": "07:15:00"}
    result = await configure(hass, flow["flow_id"], {**arrival, "hours": 20})
    assert result["errors"] == {"hours": "hours_exceed_window"}
    assert result["description_placeholders"]["window"] == "13"
    result = await configure(hass, flow["flow_id"], arrival)
    result = await configure(hass, flow["flow_id"], {"next_step_id": "no_actuator"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = entry.subentries.values()
    assert (subentry.data["window_start"], subentry.data["window_end"]) == (
        "18:00",
        "07:00",
    )


def test_every_error_has_a_translation() -> None:
    strings = json.loads(
        (Path(__file__).parents[2] / "custom_components/hems/strings.json").read_text()
    )
    errors = strings["config_subentries"]["load"]["error"]
    assert set(errors) == set(MESSAGES)
    for key, text in errors.items():
        wanted = set(re.findall(r"{(\w+)}", MESSAGES[key]))
        assert set(re.findall(r"{(\w+)}", text)) <= wanted, key


async def test_battery_by_power_or_with_force_discharge(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A battery driven by a power setpoint, and one whose inverter can sell."""
    hass.states.async_set("number.inverter_power", "0", {"min": -5000, "max": 5000})
    flow = await start(hass, entry, "battery")
    battery = {
        "name": "Battery",
        "capacity_kwh": 5.2,
        "charge_kw": 2.5,
        "discharge_kw": 2.5,
        "efficiency": 0.9,
        "min_soc_kwh": 0.5,
        "soc_entity": "sensor.battery_soc",
    }
    result = await configure(hass, flow["flow_id"], {**battery, "control": "power"})
    assert result["menu_options"] == ["number_actuator", "no_actuator"]
    result = await configure(hass, flow["flow_id"], {"next_step_id": "number_actuator"})
    result = await configure(
        hass,
        flow["flow_id"],
        {
            "entity_id": "number.inverter_power",
            "unit": "kW",
            "charge_positive": False,
            "min_interval_s": 120,
            "step_kw": 0.2,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    hass.states.async_set(
        "select.inverter_mode",
        "Self use",
        {"options": ["Self use", "Hold", "Grid charge", "Export"]},
    )
    flow = await start(hass, entry, "battery")
    modes = ["normal", "charge_only", "force_charge", "force_discharge"]
    result = await configure(
        hass, flow["flow_id"], {**battery, "name": "Second", "modes": modes}
    )
    result = await configure(hass, flow["flow_id"], {"next_step_id": "select_actuator"})
    result = await configure(
        hass, flow["flow_id"], {"entity_id": "select.inverter_mode"}
    )
    assert result["step_id"] == "select_options"
    fields = {str(key) for key in result["data_schema"].schema}
    assert fields == set(modes)
    result = await configure(
        hass,
        flow["flow_id"],
        {
            "normal": "Self use",
            "charge_only": "Hold",
            "force_charge": "Grid charge",
            "force_discharge": "Export",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    plan = entry.runtime_data.plan
    loads = {load.name: load for load in plan.loads.values()}
    assert loads["Battery"].control == "power"
    assert loads["Second"].modes == tuple(modes)
    select = er.async_get(hass).async_get_entity_id(
        "select", DOMAIN, f"{loads['Second'].id}_battery_mode"
    )
    assert hass.states.get(select).attributes["options"] == modes
