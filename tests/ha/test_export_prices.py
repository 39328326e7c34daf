"""Export prices: Agile Outgoing, Octopus Energy export entities, a fixed rate."""

from datetime import UTC, datetime
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from tests.octopus_energy import (
    EXPORT_MPAN,
    EXPORT_TARIFF,
    event_attributes,
    rate_items,
    rates_entity_id,
)

from .conftest import FakeOctopus
from .helpers import CAR, EVENING, PUBLISHED, entity, real_price, set_up


def _slots(hass: HomeAssistant) -> list[dict[str, Any]]:
    state = hass.states.get(entity(hass, "sensor", "HEMS_planned_cost_total"))
    return list(state.attributes["slots"])


async def _export_options(
    hass: HomeAssistant, entry: Any, export: dict[str, Any]
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"export": export}
    )
    await hass.async_block_till_done()
    return dict(result)


async def test_agile_outgoing_is_found_and_read(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """The current Agile Outgoing product is found; its prices reach the plan."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    result = await _export_options(
        hass, entry, {"export_source": "octopus", "export_limit_kw": 3.68}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    section = entry.options["export"]
    assert section["export_product"] == "AGILE-OUTGOING-19-05-13"
    assert section["export_region"] == "A"  # the import prices' region
    assert any(
        "AGILE-OUTGOING-19-05-13" in request.path for request in octopus.rate_requests
    )
    slots = _slots(hass)
    assert all("export_price" in slot for slot in slots)
    first = datetime.fromisoformat(slots[0]["start"])
    assert slots[0]["export_price"] == pytest.approx(real_price(first))


async def test_a_fixed_rate_is_paid_for_every_half_hour(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    result = await _export_options(hass, entry, {"export_source": "fixed"})
    assert result["errors"] == {"export_rate": "export_rate_range"}
    await _export_options(hass, entry, {"export_source": "fixed", "export_rate": 15.0})
    assert {slot["export_price"] for slot in _slots(hass)} == {15.0}
    sensor = hass.states.get(entity(hass, "sensor", "HEMS_current_export_price"))
    assert float(sensor.state) == 15.0
    assert sensor.attributes["unit_of_measurement"] == "p/kWh"


async def test_export_entities_are_checked(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Import entities are refused as export; the export pair is read."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    day = datetime(2020, 9, 27, 23, tzinfo=UTC)
    items = rate_items(day, [5.0] * 48)
    importing = rates_entity_id("current")
    hass.states.async_set(importing, "unknown", event_attributes("current", items))
    result = await _export_options(
        hass, entry, {"export_source": "entity", "export_entities": [importing]}
    )
    assert result["errors"] == {"export_entities": "export_import_rates"}
    current = rates_entity_id("current", mpan=EXPORT_MPAN, export=True)
    following = rates_entity_id("next", mpan=EXPORT_MPAN, export=True)
    for name, entity_id in (("current", current), ("next", following)):
        hass.states.async_set(
            entity_id,
            "unknown",
            event_attributes(name, items, mpan=EXPORT_MPAN, tariff=EXPORT_TARIFF),
        )
    result = await _export_options(
        hass,
        entry,
        {"export_source": "entity", "export_entities": [current, following]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    paid = [slot.get("export_price") for slot in _slots(hass)]
    assert 5.0 in paid


async def test_an_export_limit_out_of_range_is_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    result = await _export_options(
        hass, entry, {"export_source": "none", "export_limit_kw": -1}
    )
    assert result["errors"] == {"export_limit_kw": "export_limit_range"}
