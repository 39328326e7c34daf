"""The entity-rates and recorded-file sources, set up in Home Assistant."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

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

from .helpers import real_prices, state

CURRENT = "event.octopus_energy_electricity_22l1_1600_current_day_rates"
NEXT = "event.octopus_energy_electricity_22l1_1600_next_day_rates"


def octopus_energy_rates(start: datetime, end: datetime) -> list[dict[str, object]]:
    """Real Agile prices shaped like the Octopus Energy integration's attribute."""
    return [
        {
            "start": slot_start.astimezone(UTC),
            "end": slot_start.astimezone(UTC) + timedelta(minutes=30),
            "value_inc_vat": round(value / 100, 6),
            "is_capped": False,
        }
        for slot_start, value in zip(
            (start + i * timedelta(minutes=30) for i in range(10_000)),
            real_prices(start, end),
            strict=False,
        )
    ]


async def test_entity_source_follows_the_rates_entities(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Prices come from the attributes and update when the entities change."""
    freezer.move_to(datetime(2020, 9, 27, 9, 10, tzinfo=UTC))
    today = (
        datetime(2020, 9, 26, 23, tzinfo=UTC),
        datetime(2020, 9, 27, 23, tzinfo=UTC),
    )
    tomorrow = (today[1], datetime(2020, 9, 28, 23, tzinfo=UTC))
    hass.states.async_set(CURRENT, "unknown", {"rates": octopus_energy_rates(*today)})
    hass.states.async_set(NEXT, "unknown", {"rates": []})
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_SOURCE: "entity", CONF_RATES_ENTITIES: [CURRENT, NEXT]},
        entry_id="E",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    prices = real_prices(*today)
    assert float(state(hass, "sensor", "E", "current_price").state) == prices[20]
    assert float(state(hass, "sensor", "E", "today_max_price").state) == max(prices)
    assert state(hass, "binary_sensor", "E", "tomorrow_available").state == STATE_OFF

    # The other integration publishes tomorrow: hems follows at once.
    hass.states.async_set(NEXT, "unknown", {"rates": octopus_energy_rates(*tomorrow)})
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor", "E", "tomorrow_available").state == STATE_ON
    assert float(state(hass, "sensor", "E", "tomorrow_min_price").state) == min(
        real_prices(*tomorrow)
    )

    # Both entities vanish: a repair issue names them, known prices stay.
    hass.states.async_remove(CURRENT)
    hass.states.async_remove(NEXT)
    later = datetime(2020, 9, 27, 9, 11, tzinfo=UTC)  # after the refresh cooldown
    freezer.move_to(later)
    async_fire_time_changed(hass, later)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, "rates_entity_missing_E")
    assert issue is not None
    assert CURRENT in (issue.translation_placeholders or {})["entities"]
    assert float(state(hass, "sensor", "E", "current_price").state) == prices[20]


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
