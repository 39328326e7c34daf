"""What a turn-up delivered, measured from the Energy dashboard's grid meter.

The household's real half-hours (tests/household.py) are imported into the
recorder as the grid import meter's statistics; an accepted free-electricity
event on Tuesday 27 October 2020 16:00-17:00 GMT is measured against the same
local half-hours of the 10 weekdays before it (an hour earlier in UTC before
the clock change of the 25th; those days have hourly statistics only: half the
hour each).
The battery covers the house on those sunny evenings; on the 27th it is empty,
so the house imports more than its baseline: delivered turn-up energy.
"""

from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder, get_instance, history
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.hems.const import DOMAIN
from tests.ha.conftest import FakeOctopus
from tests.ha.helpers import set_up, state, tick
from tests.household import household

from .test_house_load import FIVE_MINUTES_FROM, NOW, import_meters
from .test_solar_energy import energy_prefs

START = datetime(2020, 10, 27, 16, tzinfo=UTC)
END = START + timedelta(hours=1)
GRID: list[dict[str, Any]] = [
    {
        "type": "grid",
        "stat_energy_from": "sensor.grid_import",
        "cost_adjustment_day": 0,
    }
]


def seen(slot: datetime) -> float:
    """Return the grid import hems sees in a half-hour (exact lately, else halves)."""
    halves = {half.start: half.grid_import for half in household()}
    if slot >= FIVE_MINUTES_FROM:
        return halves[slot]
    hour = slot.replace(minute=0)
    return (halves[hour] + halves[hour + timedelta(minutes=30)]) / 2


def by_hand() -> tuple[float, float]:
    """Return (baseline, metered) kWh of the event."""
    days = [date(2020, 10, d) for d in (26, 23, 22, 21, 20, 19, 16, 15, 14, 13)]
    baseline = 0.0
    for minute in (0, 30):
        samples = []
        for day in days:
            utc_hour = 16 if day >= date(2020, 10, 25) else 15  # GMT / BST
            samples.append(
                seen(
                    datetime(day.year, day.month, day.day, utc_hour, minute, tzinfo=UTC)
                )
            )
        baseline += fmean(samples)
    metered = seen(START) + seen(START + timedelta(minutes=30))
    return baseline, metered


async def test_an_accepted_event_reports_what_it_delivered(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    freezer.move_to(START - timedelta(minutes=50))
    octopus.published_until = datetime(2020, 10, 28, 23, tzinfo=UTC)
    await import_meters(
        hass, recorder_mock, {"sensor.grid_import": "grid_import"}, now=NOW
    )
    await energy_prefs(hass, GRID)
    delivered = async_capture_events(hass, "hems_flex_delivered")
    entry = await set_up(hass, options={"flex": {"policy": "auto_accept"}})
    await hass.services.async_call(
        DOMAIN,
        "flex_event",
        {
            "id": "tea",
            "direction": "up",
            "start": START.isoformat(),
            "end": END.isoformat(),
            "free": True,
            "min_import_kw": 2,
            "reward_p_per_kwh": 10,
        },
        blocking=True,
    )
    # While it runs: measured so far, not reported.
    await tick(hass, freezer, START + timedelta(minutes=35, seconds=30))
    record = entry.runtime_data.flex.records["service:tea"]
    assert record.delivery is not None
    assert not record.reported
    assert delivered == []
    # After its end the readings are in: reported once.
    await tick(hass, freezer, END + timedelta(minutes=10, seconds=30))
    await tick(hass, freezer, END + timedelta(minutes=15, seconds=30))
    assert len(delivered) == 1
    figures = delivered[0].data
    baseline, metered = by_hand()
    assert figures["event"] == "service:tea"
    assert figures["complete"]
    assert figures["baseline_kwh"] == pytest.approx(baseline, abs=1e-3)
    assert figures["metered_kwh"] == pytest.approx(metered, abs=1e-3)
    assert metered - baseline > 0.4
    assert figures["delivered_kwh"] == pytest.approx(metered - baseline, abs=1e-3)
    # Asked: 2 kW for an hour above the baseline.
    assert figures["asked_kwh"] == pytest.approx(2 - baseline, abs=1e-3)
    paid = metered - baseline
    assert figures["points"] is None
    assert figures["reward_p"] == pytest.approx(paid * 10, abs=0.01)
    sensor = state(hass, "sensor", "HEMS", "flex_delivered")
    assert float(sensor.state) == pytest.approx(paid, abs=1e-3)
    assert sensor.attributes["event"] == "service:tea"
    assert sensor.attributes["reported"] is True


def in_window(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the plan's slots inside the event's window."""
    return [
        slot
        for slot in attributes["slots"]
        if START <= datetime.fromisoformat(slot["start"]) < END
    ]


async def test_the_plan_shows_the_event_with_asked_planned_and_delivered(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    freezer.move_to(START - timedelta(minutes=50))
    octopus.published_until = datetime(2020, 10, 28, 23, tzinfo=UTC)
    await import_meters(
        hass, recorder_mock, {"sensor.grid_import": "grid_import"}, now=NOW
    )
    await energy_prefs(hass, GRID)
    entry = await set_up(hass)
    await hass.services.async_call(
        DOMAIN,
        "flex_event",
        {
            "id": "tea",
            "direction": "up",
            "start": START.isoformat(),
            "end": END.isoformat(),
            "min_import_kw": 2,
            "reward_p_per_kwh": 10,
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    baseline, metered = by_hand()
    plan = state(hass, "sensor", entry.entry_id, "planned_cost_total")
    (event,) = plan.attributes["flex_events"]
    # Asked (the household's setting asks): the baseline is known beforehand.
    assert event["status"] == "pending"
    assert event["key"] == "service:tea"
    assert (event["direction"], event["start"], event["end"]) == (
        "up",
        START.isoformat(),
        END.isoformat(),
    )
    assert event["target_kw"] == 2
    assert event["target_kwh"] == pytest.approx(2.0)
    assert event["reward_p_per_kwh"] == pytest.approx(10)
    assert event["baseline_kwh"] == pytest.approx(baseline, abs=1e-3)
    assert event["asked_kwh"] == pytest.approx(2 - baseline, abs=1e-3)
    window = in_window(plan.attributes)
    assert len(window) == 2
    assert event["planned_import_kwh"] == pytest.approx(
        sum(slot["import_kwh"] for slot in window), abs=1e-3
    )
    assert "metered_kwh" not in event
    await hass.services.async_call(
        DOMAIN,
        "flex_respond",
        {"event": "tea", "response": "accept"},
        blocking=True,
    )
    await hass.async_block_till_done()
    plan = state(hass, "sensor", entry.entry_id, "planned_cost_total")
    (event,) = plan.attributes["flex_events"]
    assert event["status"] == "accepted"
    window = in_window(plan.attributes)
    assert event["planned_import_kwh"] == pytest.approx(
        sum(slot["import_kwh"] for slot in window), abs=1e-3
    )
    # After it ran: metered and delivered against the same baseline.
    await tick(hass, freezer, END + timedelta(minutes=10, seconds=30))
    await tick(hass, freezer, END + timedelta(minutes=15, seconds=30))
    plan = state(hass, "sensor", entry.entry_id, "planned_cost_total")
    (event,) = plan.attributes["flex_events"]
    assert event["reported"] is True
    assert event["baseline_kwh"] == pytest.approx(baseline, abs=1e-3)
    assert event["metered_kwh"] == pytest.approx(metered, abs=1e-3)
    assert event["delivered_kwh"] == pytest.approx(metered - baseline, abs=1e-3)
    assert event["reward_p"] == pytest.approx((metered - baseline) * 10, abs=0.01)
    # Beside the plan, not in the state history.
    await async_wait_recording_done(hass)
    recorded = await get_instance(hass).async_add_executor_job(
        history.get_last_state_changes, hass, 1, plan.entity_id
    )
    last = recorded[plan.entity_id][-1]
    assert "flex_events" not in last.attributes
    assert "unit_of_measurement" in last.attributes
    # A day later it has gone from beside the plan.
    await tick(hass, freezer, END + timedelta(days=1, minutes=5))
    plan = state(hass, "sensor", entry.entry_id, "planned_cost_total")
    assert plan.attributes["flex_events"] == []
