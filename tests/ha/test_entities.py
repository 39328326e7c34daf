"""Entities: values, attributes within the recorder's limits, diagnostics."""

from datetime import UTC, datetime, timedelta
import json

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import (
    CONF_ACCOUNT_NUMBER,
    CONF_API_KEY,
    CONF_GAS_PRICE,
)
from custom_components.hems.diagnostics import async_get_config_entry_diagnostics

from .conftest import FakeOctopus
from .helpers import real_prices, state

ENTRY = "01HEMSTESTENTRY"
EVENING = datetime(2020, 9, 27, 17, 10, tzinfo=UTC)  # 18:10 BST


async def test_cheapest_slot_and_price_list(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """The cheapest upcoming slot and a compact list of all known prices."""
    freezer.move_to(EVENING)
    octopus.published_until = datetime(2020, 9, 28, 23, tzinfo=UTC)
    octopus_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(octopus_entry.entry_id)
    await hass.async_block_till_done()

    upcoming_start = datetime(2020, 9, 27, 17, 0, tzinfo=UTC)
    upcoming = real_prices(upcoming_start, datetime(2020, 9, 28, 23, tzinfo=UTC))
    cheapest = state(hass, "sensor", ENTRY, "cheapest_upcoming_slot")
    index = upcoming.index(min(upcoming))  # the earliest of equal minima
    assert dt_util.parse_datetime(cheapest.state) == upcoming_start + index * timedelta(
        minutes=30
    )
    assert cheapest.attributes["price"] == min(upcoming)

    current = state(hass, "sensor", ENTRY, "current_price")
    prices = current.attributes["prices"]
    assert len(prices) == 96  # today and tomorrow, from local midnight
    assert prices[0]["start"] == "2020-09-26T23:00:00+00:00"
    assert len(json.dumps(dict(current.attributes))) < 16 * 1024
    assert current.attributes["unit_of_measurement"] == "p/kWh"


async def test_diagnostics_redact_the_account(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    """The API key and account number never appear in diagnostics."""
    freezer.move_to(EVENING)
    entry = MockConfigEntry(
        domain="hems",
        data={"source": "octopus", "region": "A", "product": "AGILE-24-10-01"},
        options={
            CONF_GAS_PRICE: 6.5,
            CONF_API_KEY: "sk_live_secret",
            CONF_ACCOUNT_NUMBER: "A-1",
        },
        entry_id=ENTRY,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diagnostics)
    assert "sk_live_secret" not in text
    assert "A-1" not in text
    assert diagnostics["options"][CONF_GAS_PRICE] == 6.5
    assert diagnostics["prices"]["known_slots"] == 48
    assert diagnostics["prices"]["source"] == "octopus:AGILE-24-10-01:A"
    assert diagnostics["plan"]["slots"] > 0
    assert diagnostics["loads"] == {}


async def test_unload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """Unloading stops the entities and the half-hour ticks."""
    freezer.move_to(EVENING)
    octopus_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(octopus_entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(octopus_entry.entry_id)
    assert octopus_entry.state is ConfigEntryState.NOT_LOADED
    assert state(hass, "sensor", ENTRY, "current_price").state == "unavailable"
