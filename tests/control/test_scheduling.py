"""From settings and prices to a planner problem, and the plan back to loads."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.load_config import DailyWindow, parse_load
from custom_components.hems.planner import plan
from custom_components.hems.prices import PriceSlot
from custom_components.hems.scheduling import (
    Progress,
    Schedule,
    SiteState,
    WindowInstance,
    build_problem,
    instance_at,
    keep_current_slot,
    load_runs,
    next_start,
    next_stop,
    schedule_from_plan,
    window_instances,
)
from tests.conftest import agile_history

LONDON = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)

CAR = parse_load(
    "car",
    {
        "kind": "ev_charger",
        "name": "Car",
        "power_kw": 7,
        "hours": 2,
        "window_start": "18:00",
        "window_end": "07:00",
    },
)
WASHER = parse_load(
    "washer",
    {
        "kind": "washing_machine",
        "name": "Washer",
        "profile_kwh": [0.5, 0.05, 0.08],
        "window_start": "20:00",
        "window_end": "08:00",
    },
)
BATTERY = parse_load(
    "battery",
    {
        "kind": "battery",
        "capacity_kwh": 4,
        "charge_kw": 2,
        "discharge_kw": 2,
        "efficiency": 0.9,
    },
)


def real_slots(start: datetime, end: datetime) -> list[PriceSlot]:
    return [
        PriceSlot(start=s, end=e, value=v)
        for s, e, v in agile_history()
        if start <= s < end
    ]


def test_window_instances_across_clock_changes() -> None:
    window = DailyWindow(start=time(18), end=time(7))
    instances = window_instances(window, LONDON, date(2020, 3, 28), date(2020, 3, 29))
    # 28 March 18:00 GMT to 29 March 07:00 BST: 12 hours (one lost).
    assert instances[0] == WindowInstance(
        datetime(2020, 3, 28, 18, tzinfo=UTC), datetime(2020, 3, 29, 6, tzinfo=UTC)
    )
    assert instances[1].start == datetime(2020, 3, 29, 17, tzinfo=UTC)
    autumn = window_instances(window, LONDON, date(2020, 10, 24), date(2020, 10, 24))
    assert autumn[0].end - autumn[0].start == timedelta(hours=14)
    whole_day = DailyWindow(start=time(0), end=time(0))
    (day,) = window_instances(whole_day, LONDON, date(2020, 10, 25), date(2020, 10, 25))
    assert (day.end - day.start) / SLOT == 50


def test_evening_plan_for_car_washer_and_battery() -> None:
    now = datetime(2020, 9, 27, 16, 10, tzinfo=UTC)  # 17:10 BST
    prices = real_slots(
        datetime(2020, 9, 27, 16, tzinfo=UTC), datetime(2020, 9, 28, 23, tzinfo=UTC)
    )
    built = build_problem(
        loads=[CAR, WASHER, BATTERY],
        prices=prices,
        now=now,
        start=datetime(2020, 9, 27, 16, tzinfo=UTC),
        tz=LONDON,
        progress={},
        site=SiteState(base_load_kw=0.4, battery_soc_kwh={"battery": 1.0}),
    )
    assert built is not None
    ids = {load.id for load in built.problem.loads}
    # Tonight's window is wholly known; tomorrow evening's is not: only one each.
    assert ids == {"car@2020-09-27T17:00Z", "washer@2020-09-27T19:00Z", "battery"}
    result = plan(built.problem, best_effort=True)
    schedule = schedule_from_plan(built, result, [CAR, WASHER, BATTERY], now)
    car = schedule.loads["car"]
    assert sum(car.on) == 4
    chosen = [p for p, on in zip(schedule.prices, car.on, strict=True) if on]
    window = [
        p
        for s, p in zip(schedule.slot_starts, schedule.prices, strict=True)
        if datetime(2020, 9, 27, 17, tzinfo=UTC)
        <= s
        < datetime(2020, 9, 28, 6, tzinfo=UTC)
    ]
    assert sorted(chosen) == sorted(window)[:4]  # the four cheapest of the window
    assert car.energy_kwh == 14.0
    assert [kw for kw in car.kw if kw] == [7.0] * 4
    battery_kw = schedule.loads["battery"].kw
    assert len(battery_kw) == len(schedule.slot_starts)
    # Its grid flow is what its SoC track implies: + charging, - discharging.
    socs = schedule.loads["battery"].soc_kwh
    assert socs is not None
    for flow, before, after in zip(battery_kw, socs, socs[1:], strict=False):
        change = after - before
        assert flow * 0.5 == pytest.approx(
            change / 0.9 if change > 0 else change, abs=1e-3
        )
    assert car.cost == round(sum(chosen) * 3.5, 4)
    washer = schedule.loads["washer"]
    (window_plan,) = washer.windows
    assert window_plan.cycle_start is not None
    assert sum(washer.on) == 3
    assert window_plan.cycle_cost is not None
    assert schedule.loads["battery"].modes is not None
    assert schedule.loads["battery"].soc_kwh is not None
    assert schedule.loads["battery"].soc_kwh[0] == 1.0
    assert len(schedule.loads["battery"].modes) == len(schedule.slot_starts)
    # Round trip through storage.
    assert Schedule.from_dict(schedule.as_dict()) == schedule
    runs = load_runs(schedule, "car")
    assert sum((end - start) / SLOT for start, end in runs) == 4
    assert next_start(schedule, "car", now) == runs[0][0]
    assert next_stop(schedule, "car", now) == runs[0][1]


def test_progress_reduces_what_is_left() -> None:
    now = datetime(2020, 9, 27, 23, 10, tzinfo=UTC)
    prices = real_slots(
        datetime(2020, 9, 27, 23, tzinfo=UTC), datetime(2020, 9, 28, 23, tzinfo=UTC)
    )
    key = "2020-09-27T17:00Z"
    started = datetime(2020, 9, 27, 22, 30, tzinfo=UTC)
    built = build_problem(
        loads=[CAR, WASHER],
        prices=prices,
        now=now,
        start=datetime(2020, 9, 27, 23, 30, tzinfo=UTC),
        tz=LONDON,
        progress={
            "car": Progress(runs={key: 3}),
            "washer": Progress(cycle_starts={"2020-09-27T19:00Z": started}),
        },
        site=SiteState(base_load_kw=0.2),
    )
    assert built is not None
    (car,) = [load for load in built.problem.loads if load.id.startswith("car")]
    assert car.slots == 1  # two hours asked, three half-hours already ran
    assert not any(
        load.id.startswith("washer@2020-09-27") for load in built.problem.loads
    )
    # The running cycle's last half-hour (0.08 kWh) is part of the base load.
    base = built.problem.base_kw
    assert base[0] == 0.2 + 0.08 / 0.5
    assert base[1] == 0.2


def test_requirement_replaces_the_daily_window() -> None:
    now = datetime(2020, 9, 27, 16, 10, tzinfo=UTC)
    prices = real_slots(
        datetime(2020, 9, 27, 16, tzinfo=UTC), datetime(2020, 9, 28, 23, tzinfo=UTC)
    )
    wanted = WindowInstance(
        datetime(2020, 9, 27, 16, tzinfo=UTC), datetime(2020, 9, 27, 20, tzinfo=UTC)
    )
    built = build_problem(
        loads=[CAR],
        prices=prices,
        now=now,
        start=datetime(2020, 9, 27, 16, tzinfo=UTC),
        tz=LONDON,
        progress={"car": Progress(requirement=(wanted, 3))},
        site=SiteState(),
    )
    assert built is not None
    (car,) = built.problem.loads
    assert car.slots == 3
    assert car.window is not None
    assert car.window.end == datetime(2020, 9, 27, 20, tzinfo=UTC)
    assert instance_at(CAR.window, LONDON, now, (wanted, 3)) == wanted


def test_cycle_window_too_short_is_reported() -> None:
    now = datetime(2020, 9, 28, 6, 10, tzinfo=UTC)  # 07:10 BST, window ends 08:00
    prices = real_slots(
        datetime(2020, 9, 28, 6, tzinfo=UTC), datetime(2020, 9, 28, 23, tzinfo=UTC)
    )
    built = build_problem(
        loads=[WASHER],
        prices=prices,
        now=now,
        start=datetime(2020, 9, 28, 6, tzinfo=UTC),
        tz=LONDON,
        progress={},
        site=SiteState(),
    )
    assert built is not None
    (skipped,) = built.skipped["washer"]
    assert skipped.deferred
    assert "too little" in skipped.summary


def test_no_prices_no_problem() -> None:
    assert (
        build_problem(
            loads=[CAR],
            prices=[],
            now=datetime(2020, 9, 27, tzinfo=UTC),
            start=datetime(2020, 9, 27, tzinfo=UTC),
            tz=LONDON,
            progress={},
            site=SiteState(),
        )
        is None
    )


def test_keep_current_slot_prefixes_the_running_slot() -> None:
    now = datetime(2020, 9, 27, 18, 10, tzinfo=UTC)
    current = datetime(2020, 9, 27, 18, tzinfo=UTC)
    prices = real_slots(current, datetime(2020, 9, 28, 23, tzinfo=UTC))
    site = SiteState(battery_soc_kwh={"battery": 2.0})
    old_built = build_problem(
        loads=[CAR, BATTERY],
        prices=prices,
        now=now,
        start=current,
        tz=LONDON,
        progress={},
        site=site,
    )
    assert old_built is not None
    old = schedule_from_plan(old_built, plan(old_built.problem), [CAR, BATTERY], now)
    new_built = build_problem(
        loads=[CAR, BATTERY],
        prices=prices,
        now=now,
        start=current + SLOT,
        tz=LONDON,
        progress={},
        site=site,
    )
    assert new_built is not None
    new = schedule_from_plan(new_built, plan(new_built.problem), [CAR, BATTERY], now)
    merged = keep_current_slot(old, new, current)
    assert merged.slot_starts[0] == current
    assert merged.slot_starts[1:] == new.slot_starts
    assert merged.loads["car"].on[0] == old.loads["car"].on[0]
    assert merged.loads["battery"].modes is not None
    assert old.loads["battery"].modes is not None
    assert merged.loads["battery"].modes[0] == old.loads["battery"].modes[0]
    assert merged.index(now) == 0
