"""The base load learnt from the recorder's statistics of the Energy dashboard.

The household's meters (tests/household.py: NESO half-hourly demand and solar
shapes scaled to one house, with a battery) are imported with the recorder's
own statistics import: hourly long-term statistics over six weeks and
5-minute statistics over the last two days, as Home Assistant keeps them.
hems's car charged on one night; its energy is in the grid import and in what
hems booked, and must not be learnt as the house's.
"""

from datetime import UTC, date, datetime, timedelta
import statistics
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import StatisticsShortTerm
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.hems.const import DOMAIN
from custom_components.hems.house_load import Statistic, forecast_error
from tests.ha.conftest import FakeOctopus
from tests.ha.helpers import entity, set_up, tick
from tests.household import HalfHour, household

from .test_solar_energy import energy_prefs, plan_attributes

UK = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)
HOUR = timedelta(hours=1)
NOW = datetime(2020, 10, 27, 17, 10, tzinfo=UTC)  # Tue 17:10 GMT
FIVE_MINUTES_FROM = datetime(2020, 10, 25, 17, tzinfo=UTC)
CAR_SLOTS = (
    datetime(2020, 10, 26, 1, 0, tzinfo=UTC),
    datetime(2020, 10, 26, 1, 30, tzinfo=UTC),
)
CAR_KWH = 3.5  # 7 kW for a half-hour
METERS = {
    "sensor.grid_import": "grid_import",
    "sensor.grid_export": "grid_export",
    "sensor.solar_production": "solar",
    "sensor.battery_charge": "battery_in",
    "sensor.battery_discharge": "battery_out",
}
SOURCES: list[dict[str, Any]] = [
    {
        "type": "grid",
        "stat_energy_from": "sensor.grid_import",
        "stat_energy_to": "sensor.grid_export",
        "cost_adjustment_day": 0,
    },
    {"type": "solar", "stat_energy_from": "sensor.solar_production"},
    {
        "type": "battery",
        "stat_energy_from": "sensor.battery_discharge",
        "stat_energy_to": "sensor.battery_charge",
    },
]
CAR: dict[str, Any] = {
    "kind": "ev_charger",
    "name": "Car",
    "power_kw": 7.0,
    "hours": 1.0,
    "window_start": "00:00",
    "window_end": "06:00",
    "actuator": {"type": "none"},
}


def past(now: datetime = NOW) -> list[HalfHour]:
    """Return the household's half-hours before ``now`` (complete hours only)."""
    return [h for h in household() if h.start < now.replace(minute=0)]


def meter_kwh(half: HalfHour, field: str) -> float:
    kwh = getattr(half, field)
    if field == "grid_import" and half.start in CAR_SLOTS:
        kwh += CAR_KWH
    return kwh


def metadata(statistic_id: str) -> StatisticMetaData:
    return StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=statistic_id,
        source="recorder",
        statistic_id=statistic_id,
        unit_class="energy",
        unit_of_measurement="kWh",
    )


async def import_meters(
    hass: HomeAssistant,
    recorder: Recorder,
    meters: dict[str, str] = METERS,
    now: datetime = NOW,
) -> None:
    """Import each meter's cumulative kWh: hourly, and 5-minute lately."""
    halves = past(now)
    for statistic_id, field in meters.items():
        hourly: list[StatisticData] = []
        short: list[StatisticData] = []
        total = 1000.0
        for half in halves:
            kwh = meter_kwh(half, field)
            if half.start >= FIVE_MINUTES_FROM:
                for step in range(6):
                    running = total + kwh * (step + 1) / 6
                    short.append(
                        StatisticData(
                            start=half.start + step * timedelta(minutes=5),
                            sum=running,
                            state=running,
                        )
                    )
            total += kwh
            if half.start.minute == 30:
                hour = half.start - SLOT
                hourly.append(StatisticData(start=hour, sum=total, state=total))
        async_import_statistics(hass, metadata(statistic_id), hourly)
        recorder.async_import_statistics(
            metadata(statistic_id), short, StatisticsShortTerm
        )
    await async_wait_recording_done(hass)


def house_seen() -> dict[datetime, float]:
    """Return what hems should see: hours split in two, true half-hours lately."""
    halves = past()
    out: dict[datetime, float] = {}
    for index in range(0, len(halves), 2):
        first, second = halves[index], halves[index + 1]
        if first.start >= FIVE_MINUTES_FROM:
            out[first.start], out[second.start] = first.house, second.house
        else:
            out[first.start] = out[second.start] = (first.house + second.house) / 2
    return out


def profile_by_hand(before: date, weeks: int = 4) -> dict[tuple[int, int], float]:
    """Return the median per local weekday and half-hour, one sample per day."""
    days: dict[date, dict[tuple[int, int], list[float]]] = {}
    for slot, kwh in house_seen().items():
        local = slot.astimezone(UK)
        cell = (local.weekday(), local.hour * 2 + local.minute // 30)
        days.setdefault(local.date(), {}).setdefault(cell, []).append(kwh * 2)
    cells: dict[tuple[int, int], list[float]] = {}
    for day, values in sorted(days.items()):
        if before - timedelta(weeks=weeks) <= day < before:
            for cell, kws in values.items():
                cells.setdefault(cell, []).append(sum(kws) / len(kws))
    return {cell: statistics.median(kws) for cell, kws in cells.items()}


def booked_car(hass_storage: dict[str, Any]) -> None:
    """Hems booked the car for the two half-hours it charged (restored state)."""
    hass_storage["hems.HEMS.plan"] = {
        "version": 1,
        "minor_version": 1,
        "key": "hems.HEMS.plan",
        "data": {
            "state": {
                "loads": {
                    "car": {
                        "ran": {
                            slot.strftime("%Y-%m-%dT%H:%MZ"): 1.0 for slot in CAR_SLOTS
                        }
                    }
                }
            },
            "schedule": None,
        },
    }


async def learnt(hass: HomeAssistant) -> None:
    """Let the learning (a background task, in the recorder) and its re-plan end."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    # A re-plan asked for within a second of another waits for that second.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_the_plan_uses_the_base_load_learnt_from_the_meters(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 10, 28, 23, tzinfo=UTC)
    await import_meters(hass, recorder_mock)
    await energy_prefs(hass, SOURCES)
    booked_car(hass_storage)
    entry = await set_up(hass, (CAR, "car"), options={"base_load_kw": 0.3})
    await learnt(hass)

    profile = profile_by_hand(date(2020, 10, 27))
    assert len(profile) == 7 * 48
    attributes = plan_attributes(hass)
    slots = [datetime.fromisoformat(slot["start"]) for slot in attributes["slots"]]
    assert len(slots) == len(attributes["base_kw"]) > 48
    for slot, kw in zip(slots, attributes["base_kw"], strict=True):
        local = slot.astimezone(UK)
        cell = (local.weekday(), local.hour * 2 + local.minute // 30)
        assert kw == pytest.approx(profile[cell], abs=1e-3), slot
    # The plan's figures use it: the base load's energy from now on.
    schedule = entry.runtime_data.plan.data
    assert schedule.base_load_kw == 0.3  # the configured fallback stays
    planned = attributes["planned"]["base_load"]["energy_kwh"]
    rest = (slots[0] + SLOT - NOW) / SLOT
    by_hand = sum(attributes["base_kw"][1:]) / 2 + attributes["base_kw"][0] / 2 * rest
    assert planned == pytest.approx(by_hand, abs=1e-2)

    # The 7-day forecast error: each day forecast from the 4 weeks before it.
    error = forecast_error(
        house_seen(),
        tz=UK,
        today=date(2020, 10, 27),
        weeks=4,
        statistic=Statistic.MEDIAN,
        fallback_kw=0.3,
    )
    assert error is not None
    sensor = hass.states.get(entity(hass, "sensor", "HEMS_base_load_forecast_error"))
    assert float(sensor.state) == pytest.approx(error.abs_error_kwh, abs=0.005)
    assert sensor.attributes["percent"] == pytest.approx(error.percent, abs=0.1)
    assert 1 < error.percent < 5
    assert len(sensor.attributes["days"]) == 7
    # The car is not the house: what the house drew excludes its 7 kWh.
    week = [
        h.house
        for h in household()
        if date(2020, 10, 20) <= h.start.astimezone(UK).date() < date(2020, 10, 27)
    ]
    assert sensor.attributes["actual_kwh"] == pytest.approx(sum(week), abs=0.01)
    assert sensor.attributes["status"] == "learnt"
    assert sensor.attributes["learnt_half_hours"] == 7 * 48
    assert sensor.attributes["meters"] == sorted(METERS)
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, "house_load_not_learnt_HEMS") is None

    # Unloading keeps hems's own use and the profile for the next start.
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage["hems.HEMS.house"]["data"]
    assert stored["own_kwh"] == {"2020-10-26T01:00Z": 3.5, "2020-10-26T01:30Z": 3.5}
    assert len(stored["profile"]["kw"]) == 7 * 48


async def test_a_cached_profile_is_used_while_none_can_be_learnt(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    hass_storage: dict[str, Any],
) -> None:
    """A restart before the meters can be read plans with yesterday's profile."""
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 10, 28, 23, tzinfo=UTC)
    hass_storage["hems.HEMS.house"] = {
        "version": 1,
        "minor_version": 1,
        "key": "hems.HEMS.house",
        "data": {
            "own_kwh": {"2020-10-26T01:00Z": 3.5, "bad": 1},
            "profile": {
                "learnt_at": (NOW - timedelta(hours=17)).isoformat(),
                "weeks": 4,
                "statistic": "median",
                "kw": {
                    f"{day}-{index}": 0.77 for day in range(7) for index in range(48)
                },
            },
        },
    }
    entry = await set_up(hass, options={"base_load_kw": 0.3})
    await learnt(hass)
    assert set(plan_attributes(hass)["base_kw"]) == {0.77}
    sensor = hass.states.get(entity(hass, "sensor", "HEMS_base_load_forecast_error"))
    assert sensor.attributes["status"].startswith(
        "the Energy dashboard has no grid import meter: the profile learnt at Tue 00:10"
    )
    # The damaged part of the store is named.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "storage_hems.HEMS.house")
    assert issue is not None

    # Two days later it is too old: the configured base load again.
    await tick(hass, freezer, datetime(2020, 10, 28, 0, 20, tzinfo=UTC))
    await learnt(hass)
    assert entry.runtime_data.house.data.profile.learnt == 336
    await tick(hass, freezer, datetime(2020, 10, 29, 0, 20, tzinfo=UTC))
    await learnt(hass)
    assert entry.runtime_data.house.data.profile.learnt == 0
    assert entry.runtime_data.house.base_load_at(NOW) is None


async def test_a_meter_without_statistics_is_a_repair_issue(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    """The battery meters were never recorded: nothing learnt, and said why."""
    freezer.move_to(NOW)
    octopus.published_until = datetime(2020, 10, 28, 23, tzinfo=UTC)
    without_battery = {k: v for k, v in METERS.items() if "battery" not in k}
    await import_meters(hass, recorder_mock, without_battery)
    await energy_prefs(hass, SOURCES)
    entry = await set_up(hass, options={"base_load_kw": 0.3})
    await learnt(hass)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "house_load_not_learnt_HEMS")
    assert issue is not None
    assert issue.translation_placeholders["reason"] == (
        "sensor.battery_charge has no statistics; "
        "sensor.battery_discharge has no statistics"
    )
    assert set(entry.runtime_data.plan.data.base_load()) == {0.3}

    # Learning turned off: no issue, the configured base load.
    hass.config_entries.async_update_entry(
        entry, options={"base_load_kw": 0.3, "solar_house": {"learn_base_load": False}}
    )
    await hass.async_block_till_done()
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, "house_load_not_learnt_HEMS") is None
    )
    sensor = hass.states.get(entity(hass, "sensor", "HEMS_base_load_forecast_error"))
    assert sensor.attributes["status"] == "learning is off"


async def test_short_history_plans_with_the_configured_base_load(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    """A week of meters: not two of any weekday, so nothing is learnt yet."""
    now = datetime(2020, 9, 27, 16, 10, tzinfo=UTC)  # Sun 17:10 BST
    freezer.move_to(now)
    octopus.published_until = datetime(2020, 9, 27, 22, tzinfo=UTC)
    await import_meters(hass, recorder_mock, now=now)
    await energy_prefs(hass, SOURCES)
    entry = await set_up(hass, options={"base_load_kw": 0.35})
    await learnt(hass)
    assert set(entry.runtime_data.plan.data.base_load()) == {0.35}
    sensor = hass.states.get(entity(hass, "sensor", "HEMS_base_load_forecast_error"))
    assert sensor.attributes["status"] == (
        "the meters' history is too short (two weeks are needed)"
    )
    # The error of the days there are: the configured base load against them.
    # The half-hours there are against the fallback: the meters start at 01:00
    # BST on the 20th, and the first hour's sum is where counting starts.
    assert sensor.attributes["forecast_kwh"] == pytest.approx(0.35 / 2 * (336 - 4))
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, "house_load_not_learnt_HEMS") is None
    )
