"""The export revenue sensor: the Energy dashboard's export meter times the price.

The Energy dashboard needs the recorder, hence these tests live here.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import (
    mock_restore_cache_with_extra_data,
)

from tests.ha.conftest import FakeOctopus
from tests.ha.helpers import entity, real_price, set_up

from .test_solar_energy import energy_prefs

NOW = datetime(2020, 9, 27, 16, 10, tzinfo=UTC)
PUBLISHED = datetime(2020, 9, 28, 23, tzinfo=UTC)
METER = "sensor.grid_export"
GRID = [
    {
        "type": "grid",
        "flow_from": [{"stat_energy_from": "sensor.grid_import"}],
        "flow_to": [{"stat_energy_to": METER}],
    }
]
FIXED = {"export": {"export_source": "fixed", "export_rate": 15.0}}
KWH = {"unit_of_measurement": "kWh", "device_class": "energy"}


def revenue(hass: HomeAssistant) -> State:
    state = hass.states.get(entity(hass, "sensor", "HEMS_export_revenue"))
    assert state is not None
    return state


async def read(
    hass: HomeAssistant, value: str, attributes: dict[str, Any] | None = None
) -> None:
    hass.states.async_set(METER, value, attributes if attributes is not None else KWH)
    await hass.async_block_till_done()


async def test_metered_export_earns_the_fixed_rate(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = PUBLISHED
    await energy_prefs(hass, GRID)
    await read(hass, "10.0")
    await set_up(hass, options=FIXED)

    state = revenue(hass)
    assert state.state == "0.0"
    assert state.attributes["unit_of_measurement"] == "GBP"
    assert state.attributes["device_class"] == "monetary"
    assert state.attributes["state_class"] == "total"
    assert state.attributes.get("last_reset") is None
    assert state.attributes["meter"] == METER
    assert "reason" not in state.attributes

    await read(hass, "10.5")
    assert float(revenue(hass).state) == pytest.approx(0.075)  # 0.5 kWh x 15p
    assert revenue(hass).attributes["export_kwh"] == pytest.approx(0.5)

    # Unavailable and NaN readings in between are skipped, the total kept.
    await read(hass, "unavailable")
    await read(hass, "nan")
    assert float(revenue(hass).state) == pytest.approx(0.075)
    await read(hass, "11.0")
    assert float(revenue(hass).state) == pytest.approx(0.15)

    # A reset to 0: what was exported since is the new reading.
    await read(hass, "0.0")
    assert float(revenue(hass).state) == pytest.approx(0.15)
    await read(hass, "0.2")
    assert float(revenue(hass).state) == pytest.approx(0.18)
    state = revenue(hass)
    assert state.attributes["export_kwh"] == pytest.approx(1.2)
    assert state.attributes["unpriced_kwh"] == 0


async def test_a_wh_meter_is_converted(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = PUBLISHED
    await energy_prefs(hass, GRID)
    await set_up(hass, options=FIXED)
    wh = {"unit_of_measurement": "Wh", "device_class": "energy"}
    await read(hass, "10000", wh)
    await read(hass, "12000", wh)
    assert float(revenue(hass).state) == pytest.approx(0.3)  # 2 kWh x 15p
    mwh = {"unit_of_measurement": "MWh", "device_class": "energy"}
    await read(hass, "0.0125", mwh)  # 12.5 kWh
    assert float(revenue(hass).state) == pytest.approx(0.375)
    # A reading in no energy unit cannot be counted.
    await read(hass, "99", {"unit_of_measurement": "W"})
    await read(hass, "0.0130", mwh)
    assert float(revenue(hass).state) == pytest.approx(0.45)
    assert revenue(hass).attributes["export_kwh"] == pytest.approx(3.0)


async def test_each_reading_earns_the_price_of_its_half_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    """Agile Outgoing: the price changes at the half-hour; nothing is split."""
    freezer.move_to(NOW)
    octopus.published_until = PUBLISHED
    await energy_prefs(hass, GRID)
    await read(hass, "10.0")
    await set_up(
        hass,
        options={
            "export": {
                "export_source": "octopus",
                "export_product": "AGILE-OUTGOING-19-05-13",
                "export_region": "A",
            }
        },
    )
    first = datetime(2020, 9, 27, 16, tzinfo=UTC)
    second = first + timedelta(minutes=30)
    assert real_price(first) != real_price(second)

    freezer.move_to(first + timedelta(minutes=29, seconds=59))
    await read(hass, "10.4")
    freezer.move_to(second + timedelta(seconds=1))
    await read(hass, "11.0")  # mostly exported before 16:30, priced at 16:30's
    expected = (0.4 * real_price(first) + 0.6 * real_price(second)) / 100
    assert float(revenue(hass).state) == pytest.approx(expected, abs=1e-4)
    assert revenue(hass).attributes["export_kwh"] == pytest.approx(1.0)

    # No price is known this far ahead: the energy is not counted but told.
    freezer.move_to(PUBLISHED + timedelta(days=3))
    await read(hass, "11.5")
    state = revenue(hass)
    assert float(state.state) == pytest.approx(expected, abs=1e-4)
    assert state.attributes["unpriced_kwh"] == pytest.approx(0.5)
    assert state.attributes["export_kwh"] == pytest.approx(1.0)


async def test_the_total_survives_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = PUBLISHED
    await energy_prefs(hass, GRID)
    await read(hass, "10.0")
    entry = await set_up(hass, options=FIXED)
    await read(hass, "10.5")

    # Reloaded while the meter moved on: that export is counted as well.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await read(hass, "11.0")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    state = revenue(hass)
    assert float(state.state) == pytest.approx(0.15)
    assert state.attributes["export_kwh"] == pytest.approx(1.0)


async def test_a_restart_restores_the_stored_total(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = PUBLISHED
    stored = {
        "revenue": 1.25,
        "export_kwh": 8.0,
        "unpriced_kwh": 0.5,
        "meter": METER,
        "last_kwh": 20.0,
    }
    mock_restore_cache_with_extra_data(
        hass, ((State("sensor.mock_title_export_revenue", "1.25"), stored),)
    )
    await energy_prefs(hass, GRID)
    await read(hass, "21.0")  # 1 kWh exported while Home Assistant was down
    await set_up(hass, options=FIXED)
    state = revenue(hass)
    assert state.entity_id == "sensor.mock_title_export_revenue"
    assert float(state.state) == pytest.approx(1.40)
    assert state.attributes["export_kwh"] == pytest.approx(9.0)
    assert state.attributes["unpriced_kwh"] == pytest.approx(0.5)


async def test_without_meter_or_export_prices_it_reads_zero_and_says_why(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, octopus: FakeOctopus
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, options=FIXED)
    state = revenue(hass)
    assert state.state == "0.0"
    assert state.attributes["reason"] == "no grid export meter in the Energy dashboard"
    assert state.attributes["meter"] is None

    # An external statistic is no entity to follow.
    await energy_prefs(
        hass,
        [{"type": "grid", "flow_to": [{"stat_energy_to": "octopus:export_meter"}]}],
    )
    await hass.async_block_till_done()
    state = revenue(hass)
    assert state.attributes["reason"] == "the grid export meter is not an entity"

    # The export meter is added to the Energy dashboard: it is followed.
    await energy_prefs(hass, GRID)
    await hass.async_block_till_done()
    await read(hass, "5.0")
    await read(hass, "6.0")
    state = revenue(hass)
    assert float(state.state) == pytest.approx(0.15)
    assert "reason" not in state.attributes

    # No export prices configured: the meter is followed but nothing earns.
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(entry, options={})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await read(hass, "7.0")
    state = revenue(hass)
    assert float(state.state) == pytest.approx(0.15)
    assert state.attributes["reason"] == "no export prices"
    assert state.attributes["unpriced_kwh"] == pytest.approx(1.0)
