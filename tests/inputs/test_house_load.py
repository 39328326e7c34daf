"""Learning the base load from meters, on a household built from NESO data."""

from datetime import UTC, date, datetime, timedelta
import statistics
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.control_state import LoadState
from custom_components.hems.house_load import (
    FIVE_MINUTES,
    HOUR,
    Meters,
    Statistic,
    booked_energy,
    cell_of,
    daily_samples,
    forecast_error,
    half_hours,
    house_energy,
    learn_profile,
    local_day_start,
    parse_slot_key,
    period_energy,
    slot_key,
)
from custom_components.hems.load_config import parse_load
from tests.household import SPRING, HalfHour, hourly, house_from_hours, household

UK = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sums(start: datetime, changes: list[float | None], period: timedelta = HOUR):
    """Cumulative sums at period ends, as statistics rows (None: no row)."""
    rows, total = [], 100.0
    for index, change in enumerate(changes):
        if change is None:
            continue
        total += change
        rows.append((start + index * period, total))
    return rows


# --- meters -------------------------------------------------------------------


def test_period_energy_from_sums() -> None:
    start = utc(2020, 10, 1)
    energy = period_energy(sums(start, [0.0, 1.5, 0.25, 2.0]), HOUR)
    assert energy == {
        start + HOUR: 1.5,
        start + 2 * HOUR: 0.25,
        start + 3 * HOUR: 2.0,
    }


def test_a_still_meter_across_a_gap_used_nothing() -> None:
    """An inverter asleep at night writes no statistics: its reading did not move."""
    start = utc(2020, 10, 1)
    energy = period_energy(sums(start, [0.0, 0.3, None, None, 0.0, 0.5]), HOUR)
    assert energy == pytest.approx(
        {
            start + HOUR: 0.3,
            start + 2 * HOUR: 0.0,
            start + 3 * HOUR: 0.0,
            start + 4 * HOUR: 0.0,
            start + 5 * HOUR: 0.5,
        }
    )


def test_a_gap_with_energy_or_a_falling_meter_is_unknown() -> None:
    start = utc(2020, 10, 1)
    moving = period_energy(sums(start, [0.0, 0.3, None, 0.9, 0.5]), HOUR)
    assert moving == pytest.approx({start + HOUR: 0.3, start + 4 * HOUR: 0.5})
    rows = [(start, 10.0), (start + HOUR, 11.0), (start + 2 * HOUR, 0.5)]
    rows.append((start + 3 * HOUR, None))
    assert period_energy(rows, HOUR) == {start + HOUR: 1.0}


def test_five_minutes_where_complete_else_half_the_hour() -> None:
    hour = utc(2020, 10, 1, 12)
    five = {hour + i * FIVE_MINUTES: 0.1 for i in range(6)}  # the first half
    five[hour + 7 * FIVE_MINUTES] = 0.4  # one of the second half only
    assert half_hours({hour: 1.0}, five) == {
        hour: pytest.approx(0.6),
        hour + SLOT: 0.5,
    }
    assert half_hours({hour: 1.0}) == {hour: 0.5, hour + SLOT: 0.5}


def test_house_from_all_meters() -> None:
    """House = import - export + solar - battery in + battery out - hems."""
    a, b, c = utc(2020, 10, 1, 12), utc(2020, 10, 1, 12, 30), utc(2020, 10, 1, 13)
    meters = Meters(
        grid_import=[{a: 1.0, b: 0.2, c: 0.5}, {a: 0.1, b: 0.0, c: 0.0}],
        grid_export=[{a: 0.0, b: 0.5, c: 0.0}],
        solar=[{a: 0.2, b: 1.5, c: 0.1}],
        battery_in=[{a: 0.0, b: 0.6, c: 0.0}],
        battery_out=[{a: 0.3, b: 0.0}],  # c unknown: not learnt from
    )
    house = house_energy(meters, {a: 1.0})
    assert house == {a: pytest.approx(0.6), b: pytest.approx(0.6)}
    # A half-hour below zero (meters read at different moments) is zero.
    assert house_energy(Meters(grid_import=[{a: 0.1}]), {a: 0.3}) == {a: 0.0}
    # Without an import meter nothing is learnt.
    assert house_energy(Meters(solar=[{a: 1.0}]), {}) == {}
    assert house_energy(Meters(), {}) == {}


def test_the_real_household_adds_up() -> None:
    halves = household()
    meters = Meters(
        grid_import=[{h.start: h.grid_import for h in halves}],
        grid_export=[{h.start: h.grid_export for h in halves}],
        solar=[{h.start: h.solar for h in halves}],
        battery_in=[{h.start: h.battery_in for h in halves}],
        battery_out=[{h.start: h.battery_out for h in halves}],
    )
    house = house_energy(meters, {})
    assert len(house) == len(halves) == 43 * 48  # 43 days of UTC
    for half in halves:
        assert house[half.start] == pytest.approx(half.house, abs=1e-9)
    assert sum(h.grid_export for h in halves) > 10  # the panels export
    assert sum(h.battery_out for h in halves) > 10  # the battery works


# --- what hems's own loads used ------------------------------------------------


def test_booked_energy_of_hems_loads() -> None:
    car = parse_load(
        "car",
        {
            "kind": "ev_charger",
            "name": "Car",
            "power_kw": 7.0,
            "hours": 2,
            "window_start": "18:00",
            "window_end": "07:00",
            "actuator": {"type": "none"},
        },
    )
    washer = parse_load(
        "washer",
        {
            "kind": "washing_machine",
            "name": "Washer",
            "profile_kwh": [0.5, 0.1],
            "window_start": "20:00",
            "window_end": "08:00",
            "actuator": {"type": "none"},
        },
    )
    battery = parse_load(
        "battery",
        {
            "kind": "battery",
            "name": "Battery",
            "capacity_kwh": 4.0,
            "charge_kw": 2.0,
            "discharge_kw": 2.0,
            "efficiency": 0.9,
            "min_soc_kwh": 0.0,
            "soc_entity": None,
            "actuator": {"type": "none"},
        },
    )
    start = utc(2020, 10, 1, 22)
    states = {
        "car": LoadState(ran={slot_key(start): 1.0, slot_key(start + SLOT): 0.5}),
        "washer": LoadState(
            cycle_starts={"2020-10-01T19:00Z": start},
            ran={slot_key(start): 1.0, slot_key(start + SLOT): 0.4},
        ),
        "battery": LoadState(ran={slot_key(start): 1.0}),
    }
    used = booked_energy([car, washer, battery], states)
    assert used == {
        start: pytest.approx(3.5 + 0.5),
        start + SLOT: pytest.approx(1.75 + 0.04),
    }
    assert booked_energy([car], {}) == {}


def test_slot_keys() -> None:
    assert parse_slot_key("2020-10-01T22:30Z") == utc(2020, 10, 1, 22, 30)
    for bad in ("2020-10-01T22:31Z", "2020-10-01T22:30", "2020-10-01T22:30+01:00"):
        with pytest.raises(ValueError, match="UTC half-hour"):
            parse_slot_key(bad)


# --- the profile ----------------------------------------------------------------


def by_hand(
    halves: tuple[HalfHour, ...], before: date, weeks: int, combine=statistics.median
) -> dict[tuple[int, int], float]:
    """Compute the profile independently: per local day and cell, then per cell."""
    house = house_from_hours(halves)
    days: dict[date, dict[tuple[int, int], list[float]]] = {}
    for slot, kwh in house.items():
        local = slot.astimezone(UK)
        cell = (local.weekday(), local.hour * 2 + local.minute // 30)
        days.setdefault(local.date(), {}).setdefault(cell, []).append(kwh * 2)
    cells: dict[tuple[int, int], list[float]] = {}
    for day, values in days.items():
        if before - timedelta(weeks=weeks) <= day < before:
            for cell, kws in values.items():
                cells.setdefault(cell, []).append(sum(kws) / len(kws))
    return {cell: combine(kws) for cell, kws in cells.items() if len(kws) >= 2}


def test_learnt_from_hourly_statistics_of_the_real_series() -> None:
    """Four weeks before Tue 2020-10-27, across the 50-half-hour 2020-10-25."""
    halves = household()
    house = house_from_hours(halves)
    profile = learn_profile(
        house, tz=UK, before=date(2020, 10, 27), weeks=4, statistic=Statistic.MEDIAN
    )
    expected = by_hand(halves, date(2020, 10, 27), 4)
    assert profile.learnt == len(expected) == 7 * 48
    for cell, kw in expected.items():
        assert profile.kw[cell] == pytest.approx(kw, abs=1e-4)
    assert profile.first_day == date(2020, 9, 29)
    assert profile.last_day == date(2020, 10, 26)
    # Sun 01:00 and 01:30 happened twice on 2020-10-25: one sample, their mean.
    assert profile.samples[6, 2] == 4
    mean = learn_profile(
        house, tz=UK, before=date(2020, 10, 27), weeks=4, statistic=Statistic.MEAN
    )
    for cell, kw in by_hand(halves, date(2020, 10, 27), 4, statistics.fmean).items():
        assert mean.kw[cell] == pytest.approx(kw, abs=1e-4)


def test_a_46_half_hour_day_gives_no_sample_for_the_lost_hour() -> None:
    halves = household(SPRING)
    house = house_from_hours(halves)
    samples = daily_samples(house, UK)
    assert len(samples[date(2020, 3, 29)]) == 46
    assert (6, 2) not in samples[date(2020, 3, 29)]
    profile = learn_profile(
        house, tz=UK, before=date(2020, 4, 5), weeks=4, statistic=Statistic.MEDIAN
    )
    assert profile.samples[6, 2] == 3
    assert profile.samples[6, 4] == 4
    assert profile.kw == pytest.approx(by_hand(halves, date(2020, 4, 5), 4), abs=1e-4)
    # The profile gives every half-hour of a 46-half-hour day a value.
    day = local_day_start(date(2020, 3, 29), UK)
    slots = [day + i * SLOT for i in range(46)]
    assert all(profile.at(slot, UK) is not None for slot in slots)


def test_short_history_is_not_learnt() -> None:
    house = house_from_hours(household())
    one_week = {s: k for s, k in house.items() if s < utc(2020, 9, 27)}
    profile = learn_profile(
        one_week, tz=UK, before=date(2020, 9, 28), weeks=4, statistic=Statistic.MEDIAN
    )
    assert profile.learnt == 0
    assert profile.at(utc(2020, 9, 28, 12), UK) is None
    two_weeks = learn_profile(
        house, tz=UK, before=date(2020, 10, 4), weeks=4, statistic=Statistic.MEDIAN
    )
    # The data start at 01:00 BST on Sun 2020-09-20: Sun 00:00 and 00:30 have
    # one week only.
    assert two_weeks.learnt == 7 * 48 - 2
    assert two_weeks.at(utc(2020, 10, 3, 23, 0), UK) is None
    # One week asked for: one sample is enough.
    one = learn_profile(
        house, tz=UK, before=date(2020, 10, 5), weeks=1, statistic=Statistic.MEAN
    )
    assert one.learnt == 7 * 48


def test_cells_are_local() -> None:
    assert cell_of(utc(2020, 10, 24, 23, 30), UK) == (6, 1)  # Sun 00:30 BST
    assert cell_of(utc(2020, 10, 25, 0, 30), UK) == (6, 3)  # 01:30 BST
    assert cell_of(utc(2020, 10, 25, 1, 30), UK) == (6, 3)  # 01:30 GMT


# --- how good it is -------------------------------------------------------------


def errors(forecast: dict[datetime, float], actual: dict[datetime, float]):
    pairs = [(forecast[slot], kwh) for slot, kwh in actual.items()]
    absolute = sum(abs(f - a) for f, a in pairs)
    return absolute, absolute / sum(a for _, a in pairs) * 100


def test_the_profile_beats_a_constant_on_the_next_week() -> None:
    """Learnt from hourly statistics, judged against the real half-hours.

    Measured (GB demand shape scaled to a 0.4 kW mean house): over Tue
    2020-10-20 .. Mon 2020-10-26 (338 half-hours, with the clock change), the
    median profile of the 4 weeks before is 2.9 % off (sum of half-hourly
    absolute errors over the energy), the mean profile 2.8 %, the 4 weeks'
    mean as a constant 18.8 %. A national shape is smooth: one household's
    own use is far noisier, and so are its errors.
    """
    halves = household()
    house = house_from_hours(halves)
    before = date(2020, 10, 20)
    week = {
        h.start: h.house
        for h in halves
        if before <= h.start.astimezone(UK).date() < before + timedelta(days=7)
    }
    results = {}
    for statistic in Statistic:
        profile = learn_profile(
            house, tz=UK, before=before, weeks=4, statistic=statistic
        )
        forecast = {slot: (profile.at(slot, UK) or 0) / 2 for slot in week}
        results[statistic] = errors(forecast, week)
    past = [
        kwh
        for slot, kwh in house.items()
        if before - timedelta(weeks=4) <= slot.astimezone(UK).date() < before
    ]
    constant = statistics.fmean(past)
    flat = errors(dict.fromkeys(week, constant), week)
    assert results[Statistic.MEDIAN][1] == pytest.approx(2.87, abs=0.01)
    assert results[Statistic.MEAN][1] == pytest.approx(2.81, abs=0.01)
    assert flat[1] == pytest.approx(18.76, abs=0.01)


def test_forecast_error_of_the_last_seven_days() -> None:
    halves = household()
    house = house_from_hours(halves)
    error = forecast_error(
        house,
        tz=UK,
        today=date(2020, 10, 27),
        weeks=4,
        statistic=Statistic.MEDIAN,
        fallback_kw=0.4,
    )
    assert error is not None
    assert [day.day for day in error.days] == [
        date(2020, 10, 20) + timedelta(days=i) for i in range(7)
    ]
    week = [h for h in halves if utc(2020, 10, 19, 23) <= h.start < utc(2020, 10, 27)]
    assert error.actual_kwh == pytest.approx(sum(h.house for h in week), abs=1e-2)
    # Each day forecast from the 4 weeks before it: 1.75 kWh of 68.8 kWh.
    assert error.percent == pytest.approx(2.5, abs=0.05)
    assert error.abs_error_kwh == pytest.approx(1.749, abs=1e-3)
    assert error.bias_kwh == pytest.approx(error.forecast_kwh - error.actual_kwh)
    assert error.abs_error_kwh == pytest.approx(
        sum(day.abs_error_kwh for day in error.days), abs=1e-2
    )


def test_forecast_error_while_history_is_short_uses_the_fallback() -> None:
    house = house_from_hours(household())
    early = {s: k for s, k in house.items() if s < utc(2020, 9, 27)}
    error = forecast_error(
        early,
        tz=UK,
        today=date(2020, 9, 27),
        weeks=4,
        statistic=Statistic.MEDIAN,
        fallback_kw=0.4,
    )
    assert error is not None
    slots = [s for s in early if s.astimezone(UK).date() < date(2020, 9, 27)]
    assert error.forecast_kwh == pytest.approx(0.2 * len(slots), abs=1e-2)
    assert (
        forecast_error(
            {},
            tz=UK,
            today=date(2020, 9, 27),
            weeks=4,
            statistic=Statistic.MEDIAN,
            fallback_kw=0.4,
        )
        is None
    )
    nothing = forecast_error(
        dict.fromkeys(early, 0.0),
        tz=UK,
        today=date(2020, 9, 27),
        weeks=4,
        statistic=Statistic.MEDIAN,
        fallback_kw=0.0,
    )
    assert nothing is not None
    assert nothing.percent is None


def test_hourly_meters_match_the_hourly_house() -> None:
    halves = household()
    hours = hourly(halves, "house")
    assert sum(hours.values()) == pytest.approx(sum(h.house for h in halves))
