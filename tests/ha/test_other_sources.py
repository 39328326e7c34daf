"""The entity-rates and recorded-file sources, set up in Home Assistant."""

from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.hems.const import (
    CONF_RATES_ENTITIES,
    CONF_REPLAY_FILE,
    CONF_SOURCE,
    DOMAIN,
)
from tests.conftest import AGILE_CSV_GZ
from tests.octopus_energy import (
    EXPORT_MPAN,
    as_json,
    before_first_event,
    event_attributes,
    rate_items,
    rates_entity_id,
    restored,
)

from .helpers import real_prices, state

CURRENT = rates_entity_id("current")
NEXT = rates_entity_id("next")
EXPORT = rates_entity_id("current", mpan=EXPORT_MPAN, export=True)
TODAY = (datetime(2020, 9, 26, 23, tzinfo=UTC), datetime(2020, 9, 27, 23, tzinfo=UTC))
TOMORROW = (TODAY[1], datetime(2020, 9, 28, 23, tzinfo=UTC))


def octopus_energy(day: str, span: tuple[datetime, datetime]) -> dict[str, Any]:
    """Real Agile prices as the Octopus Energy integration's entity has them."""
    return event_attributes(day, rate_items(span[0], real_prices(*span)))


def hems_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.hems")
        and record.levelno >= logging.WARNING
    ]


async def set_up_entity_source(
    hass: HomeAssistant, *entity_ids: str
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_SOURCE: "entity", CONF_RATES_ENTITIES: list(entity_ids)},
        entry_id="E",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def refresh(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, at: datetime
) -> None:
    """Let the price coordinator poll again at `at`."""
    freezer.move_to(at)
    async_fire_time_changed(hass, at)
    await hass.async_block_till_done()


async def test_entity_source_follows_the_rates_entities(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Prices come from the attributes and update when the entities change."""
    freezer.move_to(datetime(2020, 9, 27, 9, 10, tzinfo=UTC))
    hass.states.async_set(CURRENT, "unknown", octopus_energy("current", TODAY))
    # The next-day entity before its first event: no rates at all.
    hass.states.async_set(NEXT, "unknown", before_first_event("next"))
    await set_up_entity_source(hass, CURRENT, NEXT)

    prices = real_prices(*TODAY)
    assert float(state(hass, "sensor", "E", "current_price").state) == prices[20]
    assert float(state(hass, "sensor", "E", "today_max_price").state) == max(prices)
    assert state(hass, "binary_sensor", "E", "tomorrow_available").state == STATE_OFF

    # Polled and re-read many times before 16:00: never a warning about it.
    for minutes in (30, 60, 90, 120):
        hass.states.async_set(
            CURRENT,
            f"2020-09-27T09:{minutes % 60:02}",
            octopus_energy("current", TODAY),
        )
        await refresh(
            hass,
            freezer,
            datetime(2020, 9, 27, 9, 10, tzinfo=UTC) + timedelta(minutes=minutes),
        )
    assert hems_warnings(caplog) == []

    # The other integration publishes tomorrow: hems follows at once.
    hass.states.async_set(NEXT, "unknown", octopus_energy("next", TOMORROW))
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor", "E", "tomorrow_available").state == STATE_ON
    assert float(state(hass, "sensor", "E", "tomorrow_min_price").state) == min(
        real_prices(*TOMORROW)
    )

    # Both entities vanish: a repair issue names them, known prices stay.
    hass.states.async_remove(CURRENT)
    hass.states.async_remove(NEXT)
    await refresh(hass, freezer, datetime(2020, 9, 27, 11, 11, tzinfo=UTC))
    issue = issue_registry.async_get_issue(DOMAIN, "rates_entity_missing_E")
    assert issue is not None
    assert CURRENT in (issue.translation_placeholders or {})["entities"]
    assert float(state(hass, "sensor", "E", "current_price").state) == prices[24]


async def test_entity_source_after_midnight_and_after_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`rates: []` after midnight, restored and JSON attributes: all read quietly."""
    freezer.move_to(datetime(2020, 9, 26, 23, 10, tzinfo=UTC))  # 00:10 BST
    # After a restart the current-day entity has its saved event back.
    hass.states.async_set(
        CURRENT, "unknown", restored(octopus_energy("current", TODAY))
    )
    hass.states.async_set(NEXT, "unknown", event_attributes("next", []))
    await set_up_entity_source(hass, CURRENT, NEXT)

    prices = real_prices(*TODAY)
    assert float(state(hass, "sensor", "E", "current_price").state) == prices[0]
    assert state(hass, "binary_sensor", "E", "tomorrow_available").state == STATE_OFF

    # Tomorrow published, held as JSON strings (as the REST API shows them).
    hass.states.async_set(NEXT, "unknown", as_json(octopus_energy("next", TOMORROW)))
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor", "E", "tomorrow_available").state == STATE_ON
    assert float(state(hass, "sensor", "E", "tomorrow_max_price").state) == max(
        real_prices(*TOMORROW)
    )
    assert hems_warnings(caplog) == []


async def test_an_export_entity_of_an_older_entry_is_not_read(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Export rates never mix into import prices; said once, not at every fetch."""
    freezer.move_to(datetime(2020, 9, 27, 9, 10, tzinfo=UTC))
    export = octopus_energy("current", TODAY)
    for item in export["rates"]:
        item["value_inc_vat"] = round(item["value_inc_vat"] / 2, 6)
    hass.states.async_set(EXPORT, "unknown", export)
    hass.states.async_set(CURRENT, "unknown", octopus_energy("current", TODAY))
    hass.states.async_set(NEXT, "unknown", before_first_event("next"))
    entry = await set_up_entity_source(hass, EXPORT, CURRENT, NEXT)

    prices = real_prices(*TODAY)
    assert float(state(hass, "sensor", "E", "current_price").state) == prices[20]
    assert float(state(hass, "sensor", "E", "today_min_price").state) == min(prices)
    message = (
        f"{EXPORT}: export rates are not import electricity prices; "
        "not used (reconfigure hems without it)"
    )
    assert entry.runtime_data.prices.rejected == (message,)
    assert hems_warnings(caplog) == [f"Rejected a price record: {message}"]

    hass.states.async_set(EXPORT, "2020-09-27T09:20", export)
    await refresh(hass, freezer, datetime(2020, 9, 27, 9, 40, tzinfo=UTC))
    assert entry.runtime_data.prices.rejected == (message,)
    assert len(hems_warnings(caplog)) == 1


async def test_replay_source_maps_history_onto_today(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A recorded file gives today's prices, and tomorrow's from 16:00 local."""
    path = tmp_path / "agile.csv.gz"
    path.write_bytes(AGILE_CSV_GZ.read_bytes())
    freezer.move_to(datetime(2026, 3, 28, 15, 50, tzinfo=UTC))  # GMT, before 16:00
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_SOURCE: "replay", CONF_REPLAY_FILE: str(path)},
        entry_id="R",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    data = entry.runtime_data.prices.data
    assert len(data.day(data.local_date(datetime(2026, 3, 28, 12, tzinfo=UTC)))) == 48
    assert state(hass, "binary_sensor", "R", "tomorrow_available").state == STATE_OFF
    assert float(state(hass, "sensor", "R", "current_price").state) == pytest.approx(
        data.slot_at(datetime(2026, 3, 28, 15, 50, tzinfo=UTC)).value  # type: ignore[union-attr]
    )

    # 16:00: tomorrow (spring forward, 46 half-hours) is "published".
    later = datetime(2026, 3, 28, 16, 5, tzinfo=UTC)
    freezer.move_to(later)
    async_fire_time_changed(hass, later)
    await hass.async_block_till_done()
    data = entry.runtime_data.prices.data
    assert state(hass, "binary_sensor", "R", "tomorrow_available").state == STATE_ON
    assert len(data.day(data.local_date(datetime(2026, 3, 29, 12, tzinfo=UTC)))) == 46
