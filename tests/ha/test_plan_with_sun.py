"""The sun and export in Home Assistant's plan, through states and services.

The prices are the recorded Agile ones of 27-28 Sep 2020; the solar forecast
is the real GB embedded solar of the same days (NESO, per kWp) on a 10 kWp
array, shown as a Solcast forecast sensor. Export prices are Agile Outgoing
from the fake Octopus API (which serves the recorded Agile history) or a
fixed rate.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.hems.const import DOMAIN
from tests.household import KWP, household
from tests.octopus_energy import (
    EXPORT_MPAN,
    EXPORT_TARIFF,
    event_attributes,
    rate_items,
    rates_entity_id,
)

from .conftest import FakeOctopus
from .helpers import (
    BATTERY,
    EVENING,
    PUBLISHED,
    SLOT,
    entity,
    plan_slots,
    plan_state,
    set_up,
    tick,
)

UK = ZoneInfo("Europe/London")
FORECAST = "sensor.pv_forecast"
ARRAY_KWP = 10.0
DAY = datetime(2020, 9, 27, tzinfo=UTC)
PEAK = (16, 19)  # the evening peak, local hours
EXPORT_PEAK_P = 30.0
EXPORT_OFF_PEAK_P = 4.0  # below every import price: nothing to gain off-peak
HEATER: dict[str, Any] = {
    "kind": "immersion",
    "name": "Hot water",
    "power_kw": 3.0,
    "hours": 2.0,
    "cheaper_than_gas": False,
    "window_start": "00:00",
    "window_end": "16:00",
    "actuator": {"type": "none"},
}
MODES_WITH_DISCHARGE = {
    **BATTERY,
    "modes": ["normal", "charge_only", "force_charge", "force_discharge"],
    "actuator": {
        **BATTERY["actuator"],
        "options": {
            **BATTERY["actuator"]["options"],
            "force_discharge": "Export",
        },
    },
}


async def offer_export(hass: HomeAssistant) -> None:
    """Give the inverter's select its force-discharge option."""
    await hass.services.async_call(
        "input_select",
        "set_options",
        {
            "entity_id": "input_select.inverter",
            "options": ["Self use", "Hold", "Grid charge", "Export"],
        },
        blocking=True,
    )


def show_peak_export_rates(hass: HomeAssistant) -> list[str]:
    """Show Octopus Energy export rates: 30p 16:00-19:00 local, else 4p."""
    entities = []
    for name, day in (("current", DAY - timedelta(hours=1)), ("next", DAY + SLOT * 46)):
        items = rate_items(
            day,
            [
                EXPORT_PEAK_P if in_peak(day + index * SLOT) else EXPORT_OFF_PEAK_P
                for index in range(48)
            ],
        )
        entity_id = rates_entity_id(name, mpan=EXPORT_MPAN, export=True)
        hass.states.async_set(
            entity_id,
            "unknown",
            event_attributes(name, items, mpan=EXPORT_MPAN, tariff=EXPORT_TARIFF),
        )
        entities.append(entity_id)
    return entities


def pv_kw() -> dict[datetime, float]:
    """Return the forecast kW of every half-hour of 27-28 Sep 2020."""
    return {
        half.start: round(half.solar / 0.5 * ARRAY_KWP / KWP, 4)
        for half in household()
        if DAY <= half.start < DAY + timedelta(days=2)
    }


def show_forecast(hass: HomeAssistant) -> dict[datetime, float]:
    """Show the forecast as a Solcast sensor (kW per half-hour, P50)."""
    forecast = pv_kw()
    hass.states.async_set(
        FORECAST,
        str(round(sum(forecast.values()) / 2, 2)),
        {
            "unit_of_measurement": "kWh",
            "detailedForecast": [
                {
                    "period_start": start.isoformat(),
                    "pv_estimate": kw,
                    "pv_estimate10": kw,
                    "pv_estimate90": kw,
                }
                for start, kw in forecast.items()
            ],
        },
    )
    return forecast


def solar_options(**more: Any) -> dict[str, Any]:
    return {
        "base_load_kw": 0.4,
        "solar_house": {
            "forecast_source": "sensor",
            "forecast_entities": [FORECAST],
            "estimate": "p50",
            "learn_base_load": False,
        },
        **more,
    }


def load_item(hass: HomeAssistant, load_id: str) -> dict[str, Any]:
    return next(
        item for item in plan_state(hass).attributes["loads"] if item["id"] == load_id
    )


def starts(hass: HomeAssistant) -> list[datetime]:
    return [
        datetime.fromisoformat(slot["start"])
        for slot in plan_state(hass).attributes["slots"]
    ]


def in_peak(start: datetime) -> bool:
    return PEAK[0] <= start.astimezone(UK).hour < PEAK[1]


def grid_charge_kwh(hass: HomeAssistant) -> float:
    """Return the energy the battery is planned to draw in force_charge slots."""
    battery = load_item(hass, "battery")
    return sum(
        kw * 0.5
        for kw, mode in zip(battery["kw"], battery["modes"], strict=True)
        if mode == "force_charge"
    )


def assert_adds_up(hass: HomeAssistant) -> None:
    """Check the headline: parts add up to the total = import cost - export revenue."""
    planned = plan_state(hass).attributes["planned"]
    parts = ("controlled_loads", "base_load", "battery", "solar", "export")
    total = planned["total"]["cost"]
    assert sum(planned[part]["cost"] for part in parts) == pytest.approx(
        total, abs=1e-3
    )
    assert planned["grid_import"]["cost"] + planned["export"]["cost"] == (
        pytest.approx(total, abs=1e-3)
    )
    assert float(plan_state(hass).state) == pytest.approx(total, abs=1e-3)


async def _heater_plan(
    hass: HomeAssistant, *, sunny: bool
) -> tuple[list[datetime], dict[datetime, float]]:
    forecast = show_forecast(hass) if sunny else {}
    options = solar_options() if sunny else {"base_load_kw": 0.4}
    entry = await set_up(hass, (HEATER, "heater"), options=options)
    heater = load_item(hass, "heater")
    on = [start for start, flag in zip(starts(hass), heater["on"], strict=True) if flag]
    assert_adds_up(hass)
    if not sunny:
        await hass.config_entries.async_remove(entry.entry_id)
    return on, forecast


async def test_a_sunny_forecast_heats_the_water_at_midday(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    """Without sun the cheapest night half-hours; with it, the PV of midday."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    night, _ = await _heater_plan(hass, sunny=False)
    assert len(night) == 4
    assert all(start.astimezone(UK).hour < 6 for start in night)

    sunny, forecast = await _heater_plan(hass, sunny=True)
    assert len(sunny) == 4
    assert all(forecast[start] >= 2.5 for start in sunny)
    attributes = plan_state(hass).attributes
    assert attributes["solar"]["source"] == "sensor"
    assert attributes["solar"]["summary"] == f"Solar forecast from {FORECAST}."
    # What the sun does, in the load's name and local (BST) time.
    sun = attributes["solar"]["sun"]
    assert sun.startswith("Hot water from PV surplus")
    assert f"{sunny[0].astimezone(UK):%H:%M}" in sun
    assert f"{sunny[0]:%H:%M}" not in sun
    by_start = plan_slots(hass)
    for start in sunny:
        slot = by_start[start]
        assert slot["pv_kw"] == pytest.approx(forecast[start])
        # The heater and the house take 3.4 kW; the grid gives only the rest.
        expected = max(3.4 - forecast[start], 0.0) * 0.5
        assert slot["import_kwh"] == pytest.approx(expected, abs=1e-3)


async def test_a_sunny_forecast_charges_the_battery_from_pv(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """With the sun, less is bought at night: the PV surplus fills the battery."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    hass.states.async_set("sensor.battery_soc", "0", {"unit_of_measurement": "%"})
    entry = await set_up(hass, (BATTERY, "battery"), options={"base_load_kw": 0.4})
    dark = grid_charge_kwh(hass)
    await hass.config_entries.async_remove(entry.entry_id)
    forecast = show_forecast(hass)
    await set_up(hass, (BATTERY, "battery"), options=solar_options())
    sunny = grid_charge_kwh(hass)
    assert dark > 3.0  # the night grid fills the battery for the peak
    assert sunny < dark - 1.0
    battery = load_item(hass, "battery")
    soc = battery["soc_kwh"]
    # The battery rises in normal mode while the sun shines (PV surplus).
    rises = [
        start
        for index, start in enumerate(starts(hass))
        if battery["modes"][index] == "normal" and soc[index + 1] > soc[index] + 0.05
    ]
    assert rises
    assert all(forecast[start] > 0.4 for start in rises)
    assert_adds_up(hass)


async def test_export_prices_make_the_battery_sell_at_the_peak(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Export paying 30p 16:00-19:00 (as Flux does): the battery sells then."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    hass.states.async_set("sensor.battery_soc", "50", {"unit_of_measurement": "%"})
    await offer_export(hass)
    entities = show_peak_export_rates(hass)
    export = {"export": {"export_source": "entity", "export_entities": entities}}
    await set_up(
        hass,
        (MODES_WITH_DISCHARGE, "battery"),
        options={"base_load_kw": 0.4, **export},
    )
    battery = load_item(hass, "battery")
    slots = plan_state(hass).attributes["slots"]
    selling = [
        datetime.fromisoformat(slot["start"])
        for slot, mode in zip(slots, battery["modes"], strict=True)
        if mode == "force_discharge"
    ]
    assert selling
    assert all(in_peak(start) for start in selling)
    sold = sum(
        slot["export_kwh"]
        for slot, mode in zip(slots, battery["modes"], strict=True)
        if mode == "force_discharge"
    )
    assert sold > 1.0
    planned = plan_state(hass).attributes["planned"]
    assert planned["export"]["energy_kwh"] == pytest.approx(-sold, abs=1e-3)
    assert planned["export"]["cost"] < 0
    assert_adds_up(hass)
    # Each half-hour the select is put into the inverter's word for the mode.
    options = MODES_WITH_DISCHARGE["actuator"]["options"]
    for start in (selling[0], selling[-1], selling[-1] + 2 * SLOT):
        await tick(hass, freezer, start)
        battery = load_item(hass, "battery")
        mode = battery["modes"][starts(hass).index(start)]
        assert hass.states.get("input_select.inverter").state == options[mode]


async def test_the_export_limit_is_respected(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """At 15p an exported kWh, no half-hour exports more than the 1 kW limit."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    show_forecast(hass)
    await offer_export(hass)
    hass.states.async_set("sensor.battery_soc", "100", {"unit_of_measurement": "%"})
    export = {
        "export": {
            "export_source": "fixed",
            "export_rate": 15.0,
            "export_limit_kw": 1.0,
        }
    }
    await set_up(
        hass, (MODES_WITH_DISCHARGE, "battery"), options=solar_options(**export)
    )
    attributes = plan_state(hass).attributes
    assert attributes["export_limit_kw"] == 1.0
    slots = attributes["slots"]
    assert max(slot["export_kwh"] for slot in slots) == pytest.approx(0.5, abs=1e-3)
    assert all(slot["export_kwh"] <= 0.5 + 1e-6 for slot in slots)
    # The sun gives more than the house, the battery and the limit can take.
    assert sum(slot["curtailed_kwh"] for slot in slots) > 0
    assert_adds_up(hass)


async def test_power_control_sends_the_planned_setpoints(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A power-driven battery is sent the plan's kW each half-hour (in W)."""
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"inverter_power": {"min": -5000, "max": 5000, "step": 1}}},
    )
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    hass.states.async_set("sensor.battery_soc", "50", {"unit_of_measurement": "%"})
    battery = {
        **BATTERY,
        "control": "power",
        "actuator": {
            "type": "number",
            "entity_id": "input_number.inverter_power",
            "unit": "W",
            "charge_positive": True,
            "min_interval_s": 0,
            "step_kw": 0.01,
        },
    }
    export = {"export": {"export_source": "fixed", "export_rate": 15.0}}
    entry = await set_up(
        hass, (battery, "battery"), options={"base_load_kw": 0.4, **export}
    )
    item = load_item(hass, "battery")
    assert item["control"] == "power"
    assert "modes" not in item
    schedule = entry.runtime_data.plan.data
    assert schedule is not None
    kws = schedule.loads["battery"].kw
    assert any(kw < -0.5 for kw in kws)  # discharging (into the house or sold)
    assert any(kw > 0.5 for kw in kws)  # charging at night
    slot = datetime(2020, 9, 27, 16, 30, tzinfo=UTC)
    seen = []
    while slot < datetime(2020, 9, 28, 7, tzinfo=UTC):
        await tick(hass, freezer, slot)
        schedule = entry.runtime_data.plan.data
        assert schedule is not None
        index = schedule.index(slot)
        assert index is not None
        kw = schedule.loads["battery"].kw[index]
        value = float(hass.states.get("input_number.inverter_power").state)
        assert value == pytest.approx(kw * 1000, abs=10.0)  # the 0.01 kW step
        seen.append(value)
        slot += SLOT
    assert min(seen) < 0 < max(seen)
    scheduled = hass.states.get(entity(hass, "binary_sensor", "battery_scheduled_now"))
    assert scheduled is not None
    assert scheduled.state == ("on" if abs(seen[-1]) >= 10 else "off")
    assert_adds_up(hass)
    await hass.services.async_call(
        DOMAIN,
        "override",
        {
            "entity_id": entity(hass, "switch", "battery_automatic"),
            "state": "force_discharge",
        },
        blocking=True,
    )
    assert float(hass.states.get("input_number.inverter_power").state) == -2000


async def test_today_so_far_adds_up_as_planned(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """The day's passed half-hours, by part as planned, add up to what they cost."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    show_forecast(hass)
    export = {"export": {"export_source": "fixed", "export_rate": 15.0}}
    await set_up(
        hass, (MODES_WITH_DISCHARGE, "battery"), options=solar_options(**export)
    )
    await offer_export(hass)
    later = EVENING + timedelta(minutes=20)
    for moment in (later, later + SLOT):
        await tick(hass, freezer, moment)
    hours = (later + SLOT - EVENING) / timedelta(hours=1)
    today = plan_state(hass).attributes["today"]
    # The base load is the configured 0.4 kW throughout: 0.4 kW x the hours.
    assert today["base_load"]["energy_kwh"] == pytest.approx(0.4 * hours, abs=1e-3)
    parts = ("controlled_loads", "base_load", "battery", "solar", "export")
    assert sum(today[part]["cost"] for part in parts) == pytest.approx(
        today["total"]["cost"], abs=1e-3
    )
    assert today["grid_import"]["cost"] + today["export"]["cost"] == pytest.approx(
        today["total"]["cost"], abs=1e-3
    )
    # In energy too: what the house, the battery and the sun did is the grid's.
    assert sum(today[part]["energy_kwh"] for part in parts) == pytest.approx(
        today["grid_import"]["energy_kwh"] + today["export"]["energy_kwh"], abs=1e-3
    )
    assert today["base_load"]["cost"] > 0
