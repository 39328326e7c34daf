"""The sun and export from settings into the problem, and the plan's figures back.

Recorded Agile prices of 27-28 Sep 2020 and the GB embedded solar of the same
days (NESO, per kWp, tests/household.py) on a 6 kWp array.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.load_config import parse_load
from custom_components.hems.plan_totals import planned_from, slot_flows
from custom_components.hems.planner import BatteryMode, plan as solve, simulate_detail
from custom_components.hems.scheduling import (
    Schedule,
    SiteState,
    build_problem,
    keep_current_slot,
    schedule_from_plan,
)
from tests.household import KWP, household

from .test_scheduling import real_slots

LONDON = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)
NOW = datetime(2020, 9, 27, 16, 10, tzinfo=UTC)
START = datetime(2020, 9, 27, 16, tzinfo=UTC)
END = datetime(2020, 9, 28, 23, tzinfo=UTC)
PV = {half.start: half.solar / 0.5 * 6 / KWP for half in household()}
HEATER = parse_load(
    "heater",
    {
        "kind": "immersion",
        "name": "Hot water",
        "power_kw": 3,
        "hours": 2,
        "cheaper_than_gas": False,
        "window_start": "00:00",
        "window_end": "16:00",
    },
)
SELLER = parse_load(
    "battery",
    {
        "kind": "battery",
        "name": "Battery",
        "capacity_kwh": 5,
        "charge_kw": 2.5,
        "discharge_kw": 2.5,
        "efficiency": 0.9,
        "modes": ["normal", "charge_only", "force_charge", "force_discharge"],
    },
)
POWER = parse_load(
    "battery",
    {
        "kind": "battery",
        "name": "Battery",
        "capacity_kwh": 5,
        "charge_kw": 2.5,
        "discharge_kw": 2.5,
        "efficiency": 0.9,
        "control": "power",
        "actuator": {"type": "none"},
    },
)


def site(**more: object) -> SiteState:
    return SiteState(
        base_load_kw=0.4,
        battery_soc_kwh={"battery": 2.5},
        pv_kw_at=lambda starts: [PV.get(start, 0.0) for start in starts],
        export_price_at=lambda start: 15.0,
        **more,  # type: ignore[arg-type]
    )


def _schedule(loads: list, state: SiteState) -> Schedule:  # type: ignore[type-arg]
    built = build_problem(
        loads=loads,
        prices=real_slots(START, END),
        now=NOW,
        start=START,
        tz=LONDON,
        progress={},
        site=state,
    )
    assert built is not None
    return schedule_from_plan(built, solve(built.problem), loads, NOW)


def test_the_problem_carries_the_sun_export_and_the_battery() -> None:
    built = build_problem(
        loads=[HEATER, SELLER],
        prices=real_slots(START, END),
        now=NOW,
        start=START,
        tz=LONDON,
        progress={},
        site=site(export_limit_kw=3.68),
    )
    assert built is not None
    problem = built.problem
    assert problem.pv_kw == tuple(round(PV[slot.start], 4) for slot in problem.slots)
    assert {slot.export_price for slot in problem.slots} == {15.0}
    assert problem.export_limit_kw == 3.68
    battery = next(load for load in problem.loads if load.id == "battery")
    assert BatteryMode.FORCE_DISCHARGE in battery.modes  # type: ignore[union-attr]
    assert battery.control == "modes"  # type: ignore[union-attr]
    powered = build_problem(
        loads=[POWER],
        prices=real_slots(START, END),
        now=NOW,
        start=START,
        tz=LONDON,
        progress={},
        site=SiteState(),
    )
    assert powered is not None
    assert powered.problem.loads[0].control == "power"  # type: ignore[union-attr]
    assert powered.problem.pv_kw == 0.0  # no forecast: no PV
    assert all(slot.export_price is None for slot in powered.problem.slots)


def test_the_plan_figures_are_the_simulator_s() -> None:
    """Per slot import, export and curtailment as the planner's simulator has them."""
    built = build_problem(
        loads=[HEATER, SELLER],
        prices=real_slots(START, END),
        now=NOW,
        start=START,
        tz=LONDON,
        progress={},
        site=site(export_limit_kw=2.0),
    )
    assert built is not None
    result = solve(built.problem)
    schedule = schedule_from_plan(built, result, [HEATER, SELLER], NOW)
    truth = simulate_detail(built.problem, result.decisions)
    flows = slot_flows(schedule)
    assert flows.import_kwh == pytest.approx(truth.import_kwh, abs=2e-3)
    assert flows.export_kwh == pytest.approx(truth.export_kwh, abs=2e-3)
    assert flows.curtailed_kwh == pytest.approx(truth.curtailed_kwh, abs=2e-3)
    assert max(flows.export_kwh) <= 1.0 + 1e-6  # 2 kW for half an hour
    totals = planned_from(schedule, START)
    assert totals.total.cost == pytest.approx(truth.cost, abs=0.05)
    assert totals.total.cost == pytest.approx(
        totals.grid_import.cost + totals.export.cost, abs=1e-3
    )
    assert totals.solar.cost < 0  # the sun saves
    # The planner's words name the loads as the householder does.
    assert "heater@" not in schedule.sun


def test_a_power_battery_keeps_its_setpoints_and_no_modes() -> None:
    schedule = _schedule([POWER], site())
    battery = schedule.loads["battery"]
    assert battery.modes is None
    assert battery.soc_kwh is not None
    assert any(kw < 0 for kw in battery.kw)
    restored = Schedule.from_dict(schedule.as_dict())
    assert restored == schedule
    later = _schedule([POWER], site())
    kept = keep_current_slot(schedule, later, START)
    assert kept.pv_kw[0] == schedule.pv_kw[0]
    assert kept.export_prices[0] == 15.0


def test_a_stored_plan_with_short_pv_is_refused() -> None:
    schedule = _schedule([HEATER], site())
    stored = schedule.as_dict()
    stored["pv_kw"] = stored["pv_kw"][:-1]
    with pytest.raises(ValueError, match="pv_kw has"):
        Schedule.from_dict(stored)
