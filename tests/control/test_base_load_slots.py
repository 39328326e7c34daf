"""A base load per half-hour: into the planner, onto the plan, into its figures."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.house_load import Profile, cell_of
from custom_components.hems.limit_report import limit_report
from custom_components.hems.load_config import parse_load
from custom_components.hems.plan_totals import planned_from
from custom_components.hems.planner import plan
from custom_components.hems.scheduling import (
    Schedule,
    SiteState,
    build_problem,
    keep_current_slot,
    schedule_from_plan,
)

from .test_scheduling import CAR, real_slots

LONDON = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)
NOW = datetime(2020, 10, 24, 16, 10, tzinfo=UTC)  # Sat 17:10 BST
START = datetime(2020, 10, 24, 16, 0, tzinfo=UTC)
END = datetime(2020, 10, 25, 23, 0, tzinfo=UTC)  # past the 50-half-hour day


def evening_profile() -> Profile:
    """Return a learnt profile: 1.2 kW from 17:00 to 20:00 local, 0.3 kW else."""
    return Profile(
        kw={
            (day, index): 1.2 if 34 <= index < 40 else 0.3
            for day in range(7)
            for index in range(48)
            if (day, index) != (6, 2)  # Sun 01:00 is not learnt
        }
    )


def built(site: SiteState):
    result = build_problem(
        loads=[CAR],
        prices=real_slots(START, END),
        now=NOW,
        start=START,
        tz=LONDON,
        progress={},
        site=site,
    )
    assert result is not None
    return result


def test_the_planner_gets_the_learnt_base_load_of_each_half_hour() -> None:
    profile = evening_profile()
    site = SiteState(
        base_load_kw=0.45, base_load_at=lambda slot: profile.at(slot, LONDON)
    )
    problem = built(site).problem
    starts = [slot.start for slot in problem.slots]
    expected = [
        0.45 if cell_of(start, LONDON) == (6, 2) else profile.at(start, LONDON)
        for start in starts
    ]
    assert list(problem.base_load_kw) == expected
    assert problem.base_load_kw[0] == 1.2  # 17:00 BST
    # Both 01:00 of the 50-half-hour Sunday fall back: not learnt.
    repeated = [s for s in starts if cell_of(s, LONDON) == (6, 2)]
    assert repeated == [
        datetime(2020, 10, 25, 0, 0, tzinfo=UTC),
        datetime(2020, 10, 25, 1, 0, tzinfo=UTC),
    ]
    assert SiteState(base_load_kw=-1.0).base_kw(START) == 0.0


def test_the_plan_carries_and_keeps_its_base_load() -> None:
    profile = evening_profile()
    site = SiteState(
        base_load_kw=0.45, base_load_at=lambda slot: profile.at(slot, LONDON)
    )
    problem = built(site)
    schedule = schedule_from_plan(problem, plan(problem.problem), [CAR], NOW)
    assert schedule.base_kw == problem.problem.base_load_kw
    assert schedule.base_load_kw == 0.45
    assert Schedule.from_dict(schedule.as_dict()) == schedule
    broken = schedule.as_dict() | {"base_kw": [1.0]}
    with pytest.raises(ValueError, match="base_kw has 1 values"):
        Schedule.from_dict(broken)
    # A plan stored by an older hems has no base_kw: its constant throughout.
    old = Schedule.from_dict(
        {k: v for k, v in schedule.as_dict().items() if k != "base_kw"}
    )
    assert old.base_load() == (0.45,) * len(old.slot_starts)

    # The next plan keeps the running half-hour's base load in front.
    later = built(site)
    after = schedule_from_plan(later, plan(later.problem), [CAR], NOW)
    shifted = Schedule(
        created=after.created,
        slot_starts=after.slot_starts[1:],
        prices=after.prices[1:],
        loads={},
        cost=after.cost,
        base_load_kw=0.45,
        base_kw=after.base_kw[1:],
    )
    kept = keep_current_slot(schedule, shifted, START)
    assert kept.base_kw == schedule.base_kw
    assert keep_current_slot(schedule, old, START) is old


def test_figures_and_the_limit_report_use_it() -> None:
    profile = evening_profile()
    site = SiteState(
        base_load_kw=0.45,
        base_load_at=lambda slot: profile.at(slot, LONDON),
        import_limit_kw=1.5,
    )
    heater = parse_load(
        "heater",
        {
            "kind": "immersion",
            "name": "Heater",
            "power_kw": 3,
            "hours": 1,
            "window_start": "17:00",
            "window_end": "19:00",
        },
    )
    problem = build_problem(
        loads=[heater],
        prices=real_slots(START, END),
        now=NOW,
        start=START,
        tz=LONDON,
        progress={},
        site=site,
    )
    assert problem is not None
    result = plan(problem.problem, best_effort=True)
    schedule = schedule_from_plan(problem, result, [heater], NOW)
    totals = planned_from(schedule, START)
    assert totals.base_load.energy_kwh == pytest.approx(
        sum(schedule.base_kw) / 2, abs=1e-3
    )
    report = limit_report(schedule, result.net_import_kw, {"heater": heater}, LONDON)
    assert report is not None
    assert "base load 1.2 kW" in report.loads
