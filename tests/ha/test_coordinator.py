"""The price coordinator in a real Home Assistant, against a fake Octopus API."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from statistics import fmean

from aiohttp import ClientError
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.hems.const import DOMAIN

from .conftest import FakeOctopus, api_record
from .helpers import real_price, real_prices, state

ENTRY = "01HEMSTESTENTRY"
# Sunday 27 September 2020, BST: the fake API has published up to 23:00Z,
# which is the end of the local day.
MORNING = datetime(2020, 9, 27, 9, 10, tzinfo=UTC)
TOMORROW_END = datetime(2020, 9, 28, 23, tzinfo=UTC)


def price_state(hass: HomeAssistant, key: str) -> str:
    return state(hass, "sensor", ENTRY, key).state


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, to: datetime
) -> None:
    """Move the clock and let every timer due by then run."""
    freezer.move_to(to)
    async_fire_time_changed(hass, to)
    await hass.async_block_till_done()


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_shows_current_and_next_price(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """Current, next and today's statistics are the real published prices."""
    freezer.move_to(MORNING)
    await set_up(hass, octopus_entry)

    assert octopus_entry.state is ConfigEntryState.LOADED
    assert float(price_state(hass, "current_price")) == real_price(
        datetime(2020, 9, 27, 9, 0, tzinfo=UTC)
    )
    assert float(price_state(hass, "next_price")) == real_price(
        datetime(2020, 9, 27, 9, 30, tzinfo=UTC)
    )
    today = real_prices(
        datetime(2020, 9, 26, 23, tzinfo=UTC), datetime(2020, 9, 27, 23, tzinfo=UTC)
    )
    assert len(today) == 48
    assert float(price_state(hass, "today_min_price")) == min(today)
    assert float(price_state(hass, "today_max_price")) == max(today)
    assert float(price_state(hass, "today_mean_price")) == round(fmean(today), 4)
    assert price_state(hass, "tomorrow_min_price") == STATE_UNAVAILABLE
    assert state(hass, "binary_sensor", ENTRY, "tomorrow_available").state == STATE_OFF
    # The API was asked for today only, from local midnight.
    assert (
        octopus.rate_requests[0].query["period_from"].startswith("2020-09-26T23:00:00")
    )


async def test_half_hour_boundary_updates_without_network(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """At each :00 and :30 the entities move on; no request is made."""
    freezer.move_to(MORNING)
    await set_up(hass, octopus_entry)
    requests = len(octopus.rate_requests)

    for step in range(1, 4):
        boundary = datetime(2020, 9, 27, 9, 0, tzinfo=UTC) + step * timedelta(
            minutes=30
        )
        await advance(hass, freezer, boundary)
        assert float(price_state(hass, "current_price")) == real_price(boundary)
        assert float(price_state(hass, "next_price")) == real_price(
            boundary + timedelta(minutes=30)
        )
    assert len(octopus.rate_requests) == requests


async def test_polls_after_publication_until_tomorrow_arrives(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """From 16:00 local it polls every few minutes; late and partial prices count."""
    freezer.move_to(datetime(2020, 9, 27, 14, 50, tzinfo=UTC))  # 15:50 BST
    await set_up(hass, octopus_entry)
    requests = len(octopus.rate_requests)

    await advance(hass, freezer, datetime(2020, 9, 27, 15, 0, 30, tzinfo=UTC))
    assert len(octopus.rate_requests) == requests + 1  # 16:00: first try, nothing yet

    # Half of tomorrow arrives late.
    octopus.published_until = datetime(2020, 9, 28, 11, tzinfo=UTC)
    await advance(hass, freezer, datetime(2020, 9, 27, 15, 6, tzinfo=UTC))
    assert len(octopus.rate_requests) == requests + 2
    assert (
        octopus.rate_requests[-1].query["period_from"].startswith("2020-09-27T23:00:00")
    )
    assert state(hass, "binary_sensor", ENTRY, "tomorrow_available").state == STATE_OFF
    assert price_state(hass, "tomorrow_max_price") == STATE_UNAVAILABLE

    # The rest arrives; the next poll asks only for what is missing.
    octopus.published_until = TOMORROW_END
    await advance(hass, freezer, datetime(2020, 9, 27, 15, 12, tzinfo=UTC))
    assert (
        octopus.rate_requests[-1].query["period_from"].startswith("2020-09-28T11:00:00")
    )
    assert state(hass, "binary_sensor", ENTRY, "tomorrow_available").state == STATE_ON
    tomorrow = real_prices(datetime(2020, 9, 27, 23, tzinfo=UTC), TOMORROW_END)
    assert float(price_state(hass, "tomorrow_max_price")) == max(tomorrow)
    assert float(price_state(hass, "tomorrow_min_price")) == min(tomorrow)

    # Everything is known: no more polling this evening.
    requests = len(octopus.rate_requests)
    await advance(hass, freezer, datetime(2020, 9, 27, 18, 0, tzinfo=UTC))
    await advance(hass, freezer, datetime(2020, 9, 27, 21, 0, tzinfo=UTC))
    assert len(octopus.rate_requests) == requests


async def test_repair_issue_when_tomorrow_missing_at_20(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Missing prices for tomorrow at 20:00 raise a repair issue, cleared on arrival."""
    freezer.move_to(datetime(2020, 9, 27, 18, 50, tzinfo=UTC))  # 19:50 BST
    await set_up(hass, octopus_entry)
    issue_id = f"tomorrow_missing_{ENTRY}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    await advance(hass, freezer, datetime(2020, 9, 27, 19, 0, tzinfo=UTC))
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "tomorrow_missing"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["date"] == "2020-09-28"

    assert issue.translation_placeholders["missing"] == "48"

    # After 18:00 a missing day is asked for every 30 minutes.
    octopus.published_until = TOMORROW_END
    await advance(hass, freezer, datetime(2020, 9, 27, 19, 10, tzinfo=UTC))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    await advance(hass, freezer, datetime(2020, 9, 27, 19, 20, 30, tzinfo=UTC))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(
    "failure",
    [
        HTTPStatus.INTERNAL_SERVER_ERROR,
        HTTPStatus.TOO_MANY_REQUESTS,
        TimeoutError(),
        ClientError("connection reset"),
        "{not json",
    ],
    ids=["500", "429", "timeout", "client_error", "malformed_json"],
)
async def test_outage_keeps_known_prices_and_never_invents_one(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    failure: HTTPStatus | Exception | str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An outage is retried with back-off; known prices stay, others are unavailable."""
    freezer.move_to(datetime(2020, 9, 27, 15, 30, tzinfo=UTC))  # 16:30 BST
    await set_up(hass, octopus_entry)
    coordinator = octopus_entry.runtime_data.prices
    octopus.failures = [failure] * 50

    # Poll at 16:35 fails; the current price is still the real one.
    await advance(hass, freezer, datetime(2020, 9, 27, 15, 35, 30, tzinfo=UTC))
    assert coordinator.last_error is not None
    assert "Could not fetch prices" in caplog.text
    assert float(price_state(hass, "current_price")) == real_price(
        datetime(2020, 9, 27, 15, 30, tzinfo=UTC)
    )
    first_delay = coordinator.update_interval
    assert first_delay is not None
    if failure == HTTPStatus.TOO_MANY_REQUESTS:
        assert first_delay >= timedelta(seconds=120)  # Retry-After honoured
    else:
        assert first_delay == timedelta(minutes=1)
        await advance(hass, freezer, datetime(2020, 9, 27, 15, 37, tzinfo=UTC))
        assert coordinator.update_interval == timedelta(minutes=2)

    # One warning for the outage, not one per retry.
    levels = [
        record.levelname
        for record in caplog.records
        if record.getMessage().startswith("Could not fetch prices")
    ]
    assert levels.count("WARNING") == 1
    if failure != HTTPStatus.TOO_MANY_REQUESTS:
        assert len(levels) >= 2  # the later retries are debug lines

    # Past the last known slot the price is unavailable, never 0.
    await advance(hass, freezer, datetime(2020, 9, 27, 23, 0, 5, tzinfo=UTC))
    assert price_state(hass, "current_price") == STATE_UNAVAILABLE
    assert price_state(hass, "next_price") == STATE_UNAVAILABLE
    assert price_state(hass, "cheapest_upcoming_slot") == STATE_UNAVAILABLE


async def test_first_fetch_failing_retries_setup(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """With no price known at all, setup is retried later."""
    freezer.move_to(MORNING)
    octopus.failures = [HTTPStatus.BAD_GATEWAY]
    await set_up(hass, octopus_entry)
    assert octopus_entry.state is ConfigEntryState.SETUP_RETRY


async def test_restart_restores_cached_prices_during_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """Prices fetched before a restart are served after it even if the API is down."""
    freezer.move_to(MORNING)
    await set_up(hass, octopus_entry)
    before = price_state(hass, "current_price")

    octopus.failures = [HTTPStatus.SERVICE_UNAVAILABLE] * 10
    assert await hass.config_entries.async_reload(octopus_entry.entry_id)
    await hass.async_block_till_done()

    assert octopus_entry.state is ConfigEntryState.LOADED
    assert price_state(hass, "current_price") == before
    assert float(price_state(hass, "today_max_price")) > 0


async def test_cache_of_another_source_is_dropped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    hass_storage: dict[str, object],
) -> None:
    """Prices cached for another product or region are not shown."""
    freezer.move_to(MORNING)
    hass_storage[f"hems.{ENTRY}.prices"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"hems.{ENTRY}.prices",
        "data": {
            "source": "octopus:AGILE-18-02-21:C",
            "slots": [
                {
                    "start": "2020-09-27T09:00:00+00:00",
                    "end": "2020-09-27T09:30:00+00:00",
                    "value": 99.0,
                }
            ],
        },
    }
    await set_up(hass, octopus_entry)
    assert float(price_state(hass, "current_price")) == real_price(
        datetime(2020, 9, 27, 9, 0, tzinfo=UTC)
    )


async def test_invalid_records_are_rejected_with_a_message(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bad records are logged and skipped; the good ones are used."""
    freezer.move_to(MORNING)
    hour_long = api_record(
        datetime(2020, 9, 27, 23, tzinfo=UTC), datetime(2020, 9, 28, 0, tzinfo=UTC), 5.0
    )
    absurd = api_record(
        datetime(2020, 9, 28, 0, tzinfo=UTC),
        datetime(2020, 9, 28, 0, 30, tzinfo=UTC),
        9e9,
    )
    octopus.extra_records = [hour_long, absurd]
    await set_up(hass, octopus_entry)

    assert "Rejected a price record" in caplog.text
    assert len(octopus_entry.runtime_data.prices.rejected) == 2
    assert float(price_state(hass, "current_price")) == real_price(
        datetime(2020, 9, 27, 9, 0, tzinfo=UTC)
    )
    assert state(hass, "binary_sensor", ENTRY, "tomorrow_available").state == STATE_OFF


@pytest.mark.parametrize(
    ("now", "day_start", "day_end", "slots"),
    [
        # Spring forward: Sunday 29 March 2020 has 46 half-hours.
        (
            datetime(2020, 3, 28, 17, 0, tzinfo=UTC),
            datetime(2020, 3, 29, 0, tzinfo=UTC),
            datetime(2020, 3, 29, 23, tzinfo=UTC),
            46,
        ),
        # Fall back: Sunday 25 October 2020 has 50 half-hours.
        (
            datetime(2020, 10, 24, 16, 0, tzinfo=UTC),
            datetime(2020, 10, 24, 23, tzinfo=UTC),
            datetime(2020, 10, 26, 0, tzinfo=UTC),
            50,
        ),
    ],
    ids=["46_slots", "50_slots"],
)
async def test_clock_change_days(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    now: datetime,
    day_start: datetime,
    day_end: datetime,
    slots: int,
) -> None:
    """Tomorrow is complete with 46 or 50 half-hours; its statistics use them all."""
    freezer.move_to(now)
    octopus.published_until = day_end
    await set_up(hass, octopus_entry)

    tomorrow = real_prices(day_start, day_end)
    assert len(tomorrow) == slots
    assert state(hass, "binary_sensor", ENTRY, "tomorrow_available").state == STATE_ON
    assert float(price_state(hass, "tomorrow_mean_price")) == round(fmean(tomorrow), 4)

    # A day short of one half-hour is not complete.
    octopus.published_until = day_end - timedelta(minutes=30)
    await hass.config_entries.async_remove(octopus_entry.entry_id)
    entry = MockConfigEntry(domain=DOMAIN, data=dict(octopus_entry.data), entry_id="X")
    await set_up(hass, entry)
    assert state(hass, "binary_sensor", "X", "tomorrow_available").state == STATE_OFF


async def test_bad_cached_records_are_skipped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    hass_storage: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged cache entry is logged and ignored; the good ones are kept."""
    freezer.move_to(MORNING)
    octopus.failures = [HTTPStatus.SERVICE_UNAVAILABLE]
    hass_storage[f"hems.{ENTRY}.prices"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"hems.{ENTRY}.prices",
        "data": {
            "source": "octopus:AGILE-24-10-01:A",
            "slots": [
                {"start": "2020-09-27T09:00:00+00:00", "end": "bad", "value": 1.0},
                {
                    "start": "2020-09-27T09:00:00+00:00",
                    "end": "2020-09-27T09:30:00+00:00",
                    "value": 12.5,
                },
            ],
        },
    }
    await set_up(hass, octopus_entry)
    assert "Ignoring part of stored" in caplog.text
    assert float(price_state(hass, "current_price")) == 12.5
