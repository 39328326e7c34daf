"""The figures a householder reads add up: planned parts, today vs planned."""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.hems.const import DOMAIN

from .conftest import FakeOctopus
from .helpers import (
    BATTERY,
    CAR,
    PUBLISHED,
    SLOT,
    WASHER,
    entity,
    planned_on,
    set_up,
    tick,
)

ON_THE_HOUR = datetime(2020, 9, 27, 16, 0, tzinfo=UTC)  # 17:00 BST


def _number(hass: HomeAssistant, unique_id: str) -> float:
    return float(hass.states.get(entity(hass, "sensor", unique_id)).state)


async def test_planned_cost_is_the_sum_of_its_parts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Loads + base load + battery = the Planned cost sensor = the plan's cost."""
    freezer.move_to(ON_THE_HOUR)
    octopus.published_until = PUBLISHED
    entry = await set_up(
        hass,
        (CAR, "car"),
        (WASHER, "washer"),
        (BATTERY, "battery"),
        options={"base_load_kw": 0.4},
    )
    plan_id = entity(hass, "sensor", "HEMS_planned_cost_total")
    state = hass.states.get(plan_id)
    planned = state.attributes["planned"]
    loads = sum(part["cost"] for part in planned["loads"].values())
    assert planned["controlled_loads"]["cost"] == pytest.approx(loads, abs=1e-3)
    parts = (
        planned["controlled_loads"]["cost"]
        + planned["base_load"]["cost"]
        + planned["battery"]["cost"]
    )
    assert planned["total"]["cost"] == pytest.approx(parts, abs=1e-3)
    assert float(state.state) == pytest.approx(planned["total"]["cost"], abs=1e-3)
    # Planned from the first half-hour of the plan, it is the planner's cost.
    schedule = entry.runtime_data.plan.data
    assert schedule.slot_starts[0] == ON_THE_HOUR
    assert float(state.state) * 100 == pytest.approx(schedule.cost, abs=0.05)
    # The base load is 0.4 kW over every half-hour of the plan.
    hours = len(schedule.slot_starts) / 2
    assert planned["base_load"]["energy_kwh"] == pytest.approx(0.4 * hours, abs=1e-3)
    # The per-load sensors say the same as the breakdown.
    assert _number(hass, "car_planned_cost") == pytest.approx(
        planned["loads"]["car"]["cost"], abs=1e-3
    )


async def test_energy_is_counted_once_as_it_is_used(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Ten minutes into a planned half-hour: 10 minutes so far, the rest planned."""
    freezer.move_to(ON_THE_HOUR + timedelta(minutes=10))
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    first = planned_on(entry, "car")[0]
    slot = ON_THE_HOUR + SLOT
    while slot <= first:
        await tick(hass, freezer, slot)
        slot += SLOT
    assert _number(hass, "HEMS_energy_today") == pytest.approx(0, abs=0.01)
    freezer.move_to(first + timedelta(minutes=10))
    # The figures are written again, e.g. by a re-plan.
    await hass.services.async_call(DOMAIN, "replan", blocking=True)
    so_far = _number(hass, "HEMS_energy_today")
    assert so_far == pytest.approx(7 * 10 / 60, abs=0.01)
    planned = _number(hass, "car_planned_energy")
    # Two hours are asked: what ran and what is planned make exactly that.
    assert so_far + planned == pytest.approx(7 * 2, abs=0.01)


def _status(hass: HomeAssistant, load_id: str) -> str:
    state = hass.states.get(entity(hass, "sensor", f"{load_id}_planned_energy"))
    return str(state.attributes["status"])


async def test_a_load_with_nothing_planned_says_why(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Added in the morning, an evening window waits for tomorrow's prices."""
    freezer.move_to(datetime(2020, 9, 27, 8, 0, tzinfo=UTC))  # 09:00 BST
    octopus.published_until = datetime(2020, 9, 27, 22, tzinfo=UTC)
    car = {**CAR, "window_end": "07:30"}
    washer = {
        **WASHER,
        "max_cycle_cost": 1.0,
        "window_start": "09:00",
        "window_end": "17:00",
    }
    await set_up(hass, (car, "car"), (washer, "washer"))
    assert _status(hass, "car") == (
        "Waiting for the prices up to Mon 07:30 (published about 16:00 the day "
        "before) to plan 18:00 to Mon 07:30."
    )
    status = _status(hass, "washer")
    assert status.startswith("Deferred: every start before 17:00 costs more than 1 p")
    card = hass.states.get(entity(hass, "sensor", "HEMS_planned_cost_total"))
    by_id = {load["id"]: load for load in card.attributes["loads"]}
    assert by_id["car"]["status"] == _status(hass, "car")


async def test_a_shortfall_names_the_unknown_prices(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Late prices: the part that fits is planned and the rest said to wait."""
    freezer.move_to(datetime(2020, 9, 27, 16, 10, tzinfo=UTC))
    octopus.published_until = datetime(2020, 9, 27, 22, tzinfo=UTC)
    late_car = {**CAR, "hours": 6.0, "window_start": "20:30"}
    await set_up(hass, (late_car, "car"))
    assert _status(hass, "car") == (
        "Only 2.5 h of 6 h fit before Mon 07:00: prices after 23:00 are not known "
        "yet (the rest is planned when they arrive)."
    )


async def test_the_calendar_keeps_what_ran(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A re-plan after a run leaves that run on the calendar, as it happened."""
    freezer.move_to(ON_THE_HOUR + timedelta(minutes=10))
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    first = planned_on(entry, "car")[0]
    slot = ON_THE_HOUR + SLOT
    while slot <= first + SLOT:
        await tick(hass, freezer, slot)
        slot += SLOT
    await hass.services.async_call(DOMAIN, "replan", blocking=True)
    calendar = entity(hass, "calendar", "HEMS_plan")
    result = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": calendar,
            "start_date_time": ON_THE_HOUR,
            "end_date_time": PUBLISHED,
        },
        blocking=True,
        return_response=True,
    )
    events = result[calendar]["events"]
    ran = [event for event in events if event["description"].startswith("Ran")]
    assert [datetime.fromisoformat(event["start"]) for event in ran] == [first]
    planned = sum(
        (datetime.fromisoformat(e["end"]) - datetime.fromisoformat(e["start"])) / SLOT
        for e in events
        if e["description"].startswith("Planned")
    )
    assert planned == 3  # four half-hours asked, one ran
