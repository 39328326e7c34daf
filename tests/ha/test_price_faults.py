"""Issue 9, the price side: holes, Retry-After, looping pages, damaged storage."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import DOMAIN
from custom_components.hems.diagnostics import async_get_config_entry_diagnostics
from custom_components.hems.price_data import PriceData, slots_in_day
from custom_components.hems.prices import PriceSlot

from .conftest import FakeOctopus
from .helpers import real_price, real_prices, state
from .test_coordinator import ENTRY, TOMORROW_END, advance, price_state, set_up

TODAY_END = datetime(2020, 9, 27, 23, tzinfo=UTC)
HOLE = datetime(2020, 9, 28, 1, 0, tzinfo=UTC)
STORE_KEY = f"hems.{ENTRY}.prices"


def tomorrow_available(hass: HomeAssistant) -> str:
    return state(hass, "binary_sensor", ENTRY, "tomorrow_available").state


def period_from(octopus: FakeOctopus) -> str:
    return octopus.rate_requests[-1].query["period_from"]


async def step_through(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=1),
) -> None:
    """Move the clock from ``start`` to ``end`` in steps, running every timer."""
    moment = start
    while moment < end:
        moment += step
        await advance(hass, freezer, moment)


# --- item 1: a rejected record leaves a hole ---------------------------------


async def test_hole_is_asked_for_again_and_filled_when_corrected(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A null price leaves tomorrow incomplete; the next fetches start at the hole."""
    freezer.move_to(datetime(2020, 9, 27, 14, 50, tzinfo=UTC))  # 15:50 BST
    octopus.published_until = TODAY_END
    await set_up(hass, octopus_entry)

    octopus.published_until = TOMORROW_END
    octopus.patches[HOLE] = {"value_inc_vat": None}
    await advance(hass, freezer, datetime(2020, 9, 27, 15, 0, 30, tzinfo=UTC))
    coordinator = octopus_entry.runtime_data.prices
    assert len(coordinator.rejected) == 1
    assert "value_inc_vat" in coordinator.rejected[0]
    assert tomorrow_available(hass) == STATE_OFF
    assert price_state(hass, "tomorrow_max_price") == STATE_UNAVAILABLE
    assert coordinator.data.missing_in_day(HOLE.date()) == (HOLE,)
    diagnostics = await async_get_config_entry_diagnostics(hass, octopus_entry)
    assert diagnostics["prices"]["missing"] == [HOLE.isoformat()]

    # The next poll asks from the hole, not from the end of what is known.
    await advance(hass, freezer, datetime(2020, 9, 27, 15, 6, tzinfo=UTC))
    assert period_from(octopus).startswith("2020-09-28T01:00:00")

    # At 20:00 the repair issue counts the missing half-hour.
    await step_through(
        hass,
        freezer,
        datetime(2020, 9, 27, 15, 6, tzinfo=UTC),
        datetime(2020, 9, 27, 19, 0, 30, tzinfo=UTC),
        timedelta(minutes=5),
    )
    issue = issue_registry.async_get_issue(DOMAIN, f"tomorrow_missing_{ENTRY}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["missing"] == "1"
    assert issue.translation_placeholders["known"] == "47"
    assert issue.translation_placeholders["total"] == "48"

    # The API corrects the record: the hole is filled at the next poll.
    octopus.patches.clear()
    await step_through(
        hass,
        freezer,
        datetime(2020, 9, 27, 19, 0, 30, tzinfo=UTC),
        datetime(2020, 9, 27, 19, 31, tzinfo=UTC),
    )
    assert period_from(octopus).startswith("2020-09-28T01:00:00")
    assert tomorrow_available(hass) == STATE_ON
    tomorrow = real_prices(TODAY_END, TOMORROW_END)
    assert float(price_state(hass, "tomorrow_max_price")) == max(tomorrow)
    assert issue_registry.async_get_issue(DOMAIN, f"tomorrow_missing_{ENTRY}") is None


async def test_persistent_hole_is_polled_gently(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """A hole the API keeps: every 5 min until 18:00, then every 30 min, then none."""
    start = datetime(2020, 9, 27, 14, 59, tzinfo=UTC)  # 15:59 BST
    freezer.move_to(start)
    octopus.published_until = TOMORROW_END
    octopus.patches[HOLE] = {"value_inc_vat": None}
    await set_up(hass, octopus_entry)
    before = len(octopus.rate_requests)

    fast_end = datetime(2020, 9, 27, 17, 0, tzinfo=UTC)  # 18:00 BST
    await step_through(hass, freezer, start, fast_end)
    fast = len(octopus.rate_requests) - before
    assert 20 <= fast <= 25

    hole_end = HOLE + timedelta(minutes=30)
    await step_through(hass, freezer, fast_end, hole_end)
    slow = len(octopus.rate_requests) - before - fast
    assert 14 <= slow <= 18  # 18:00 to 02:30 BST, every 30 minutes

    # Once the hole is past, nothing is asked until the next publication.
    await step_through(
        hass, freezer, hole_end, datetime(2020, 9, 28, 14, 59, tzinfo=UTC)
    )
    assert len(octopus.rate_requests) - before == fast + slow
    assert tomorrow_available(hass) == STATE_OFF  # 29 September is not published


def test_missing_lists_the_half_hours_without_a_price() -> None:
    """The plan side reads the holes of any span or local day."""
    tz = ZoneInfo("Europe/London")
    slots = tuple(
        PriceSlot(start=start, end=start + timedelta(minutes=30), value=1.0)
        for start in (
            datetime(2020, 9, 27, 23, tzinfo=UTC) + n * timedelta(minutes=30)
            for n in range(48)
        )
        if start != HOLE
    )
    data = PriceData(slots=slots, tz=tz)
    day = datetime(2020, 9, 28, tzinfo=UTC).date()
    assert data.missing_in_day(day) == (HOLE,)
    assert not data.day_complete(day)
    assert data.missing(HOLE + timedelta(minutes=10), HOLE + timedelta(hours=1)) == (
        HOLE,
    )
    assert data.missing(TOMORROW_END, TOMORROW_END + timedelta(hours=1)) == (
        TOMORROW_END,
        TOMORROW_END + timedelta(minutes=30),
    )
    assert slots_in_day(day, tz) == len(data.missing_in_day(day)) + 47 == 48
    # Before 16:00 only today should be known; from 16:00 tomorrow too.
    assert data.expected_span(datetime(2020, 9, 28, 14, 59, tzinfo=UTC)) == (
        TODAY_END,
        TOMORROW_END,
    )
    assert data.expected_span(datetime(2020, 9, 28, 15, 0, tzinfo=UTC))[1] == (
        datetime(2020, 9, 29, 23, tzinfo=UTC)
    )


# --- item 7: Retry-After -------------------------------------------------------


async def test_long_retry_after_does_not_miss_tomorrow(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """Retry-After: 86400 waits 30 minutes, not a day; tomorrow still arrives."""
    freezer.move_to(datetime(2020, 9, 27, 15, 30, tzinfo=UTC))  # 16:30 BST
    octopus.published_until = TODAY_END
    await set_up(hass, octopus_entry)
    octopus.failures = [HTTPStatus.TOO_MANY_REQUESTS]
    octopus.retry_after = "86400"

    await advance(hass, freezer, datetime(2020, 9, 27, 15, 35, 30, tzinfo=UTC))
    coordinator = octopus_entry.runtime_data.prices
    assert coordinator.last_error is not None
    assert coordinator.update_interval == timedelta(minutes=30)

    octopus.published_until = TOMORROW_END
    await advance(hass, freezer, datetime(2020, 9, 27, 16, 6, tzinfo=UTC))
    assert tomorrow_available(hass) == STATE_ON


@pytest.mark.parametrize(
    "retry_after",
    ["1e15", "inf", "1e400", "-5", "soon", "Fri, 31 Dec 9999 23:59:59 GMT"],
)
async def test_absurd_retry_after_keeps_known_prices(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    retry_after: str,
) -> None:
    """No Retry-After overflows; the known prices stay available."""
    freezer.move_to(datetime(2020, 9, 27, 15, 30, tzinfo=UTC))  # 16:30 BST
    octopus.published_until = TODAY_END
    await set_up(hass, octopus_entry)
    octopus.failures = [HTTPStatus.TOO_MANY_REQUESTS] * 3
    octopus.retry_after = retry_after

    await advance(hass, freezer, datetime(2020, 9, 27, 15, 35, 30, tzinfo=UTC))
    coordinator = octopus_entry.runtime_data.prices
    assert coordinator.last_error is not None
    assert coordinator.update_interval is not None
    assert coordinator.update_interval <= timedelta(minutes=30)
    assert float(price_state(hass, "current_price")) == real_price(
        datetime(2020, 9, 27, 15, 30, tzinfo=UTC)
    )


async def test_retry_after_never_passes_publication(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
) -> None:
    """A back-off that would end after 16:00 ends at 16:00."""
    freezer.move_to(datetime(2020, 9, 27, 14, 20, tzinfo=UTC))  # 15:20 BST
    octopus.published_until = datetime(2020, 9, 27, 20, tzinfo=UTC)  # 21:00 BST
    await set_up(hass, octopus_entry)
    octopus.failures = [HTTPStatus.TOO_MANY_REQUESTS]
    octopus.retry_after = "1200"

    # 15:50: rate limited for 20 minutes, but 16:00 is the publication.
    await advance(hass, freezer, datetime(2020, 9, 27, 14, 50, 30, tzinfo=UTC))
    assert octopus_entry.runtime_data.prices.last_error is not None
    requests = len(octopus.rate_requests)
    octopus.published_until = TOMORROW_END
    await advance(hass, freezer, datetime(2020, 9, 27, 15, 0, 31, tzinfo=UTC))
    assert len(octopus.rate_requests) == requests + 1
    assert tomorrow_available(hass) == STATE_ON


# --- item 10: a looping next link ----------------------------------------------


async def test_looping_next_link_keeps_the_prices(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A `next` link to the same page costs one request and keeps its prices."""
    freezer.move_to(datetime(2020, 9, 27, 9, 10, tzinfo=UTC))
    octopus.loop_next = True
    await set_up(hass, octopus_entry)

    assert octopus_entry.state is ConfigEntryState.LOADED
    assert len(octopus.rate_requests) == 1
    assert float(price_state(hass, "current_price")) == real_price(
        datetime(2020, 9, 27, 9, 0, tzinfo=UTC)
    )
    assert "Prices read in part" in caplog.text
    assert "loops back" in caplog.text
    assert octopus_entry.runtime_data.prices.incomplete is not None


# --- item 8: damaged or foreign storage -----------------------------------------


GOOD_SLOT = {
    "start": "2020-09-27T09:00:00+00:00",
    "end": "2020-09-27T09:30:00+00:00",
    "value": 12.5,
}


def stored(data: Any, version: int = 1) -> dict[str, Any]:
    return {"version": version, "minor_version": 1, "key": STORE_KEY, "data": data}


def good(slots: list[Any]) -> dict[str, Any]:
    return {"source": "octopus:AGILE-24-10-01:A", "slots": slots}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (stored(good([GOOD_SLOT]), version=2), "UnsupportedStorageVersionError"),
        (stored(good([GOOD_SLOT]), version=0), "NotImplementedError"),
        (stored([GOOD_SLOT]), "got list"),
        (stored({"source": "octopus:AGILE-24-10-01:A"}), "field 'slots'"),
        (stored(good([GOOD_SLOT, {"start": 1}, "junk", None])), "3 part(s) dropped"),
        ({"version": "x", "key": STORE_KEY, "data": good([GOOD_SLOT])}, "TypeError"),
    ],
    ids=["newer", "older", "list", "no_slots", "junk_slots", "junk_wrapper"],
)
async def test_damaged_store_never_stops_the_entry(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    payload: dict[str, Any],
    problem: str,
) -> None:
    """The entry loads, a repair issue says what was dropped, good data is saved."""
    freezer.move_to(datetime(2020, 9, 27, 9, 10, tzinfo=UTC))
    hass_storage[STORE_KEY] = payload
    await set_up(hass, octopus_entry)

    assert octopus_entry.state is ConfigEntryState.LOADED
    assert float(price_state(hass, "current_price")) == real_price(
        datetime(2020, 9, 27, 9, 0, tzinfo=UTC)
    )
    issue = issue_registry.async_get_issue(DOMAIN, f"storage_{STORE_KEY}")
    assert issue is not None
    assert issue.translation_key == "storage_damaged"
    assert issue.translation_placeholders is not None
    assert problem in issue.translation_placeholders["problem"]
    assert STORE_KEY in caplog.text

    # The store now holds good data of the current version ...
    assert hass_storage[STORE_KEY]["version"] == 1
    assert len(hass_storage[STORE_KEY]["data"]["slots"]) == 48
    # ... which the next start reads cleanly.
    assert await hass.config_entries.async_reload(octopus_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, f"storage_{STORE_KEY}") is None


async def test_damaged_store_keeps_the_trusted_prices_while_the_api_is_down(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    octopus_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Junk beside a good slot: the good one is served, the junk reported."""
    freezer.move_to(datetime(2020, 9, 27, 9, 10, tzinfo=UTC))
    octopus.failures = [HTTPStatus.SERVICE_UNAVAILABLE] * 5
    hass_storage[STORE_KEY] = stored(good([GOOD_SLOT, ["junk"]]))
    await set_up(hass, octopus_entry)

    assert octopus_entry.state is ConfigEntryState.LOADED
    assert float(price_state(hass, "current_price")) == 12.5
    assert issue_registry.async_get_issue(DOMAIN, f"storage_{STORE_KEY}") is not None
