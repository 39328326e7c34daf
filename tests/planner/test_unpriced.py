"""Slots without a price: nothing runs there, the battery holds, the limit holds.

Random unpriced slots are also part of the property tests against brute force
(``test_solve_properties``) and the plain DP (``test_dp``).
"""

import json

import pytest

from custom_components.hems.planner import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InfeasibleError,
    InterruptibleLoad,
    Problem,
    parse_problem,
    plan,
    plan_to_json,
    problem_to_json,
    simulate_detail,
)
from custom_components.hems.planner.eligibility import cycle_starts, run_slots
from custom_components.hems.planner.rules import rule_decisions

from .helpers import make_slots

N, H, F = BatteryMode.NORMAL, BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_CHARGE
HOLE = [2.0, None, 1.0, 9.0]


def bat() -> Battery:
    return Battery(
        id="b", capacity_kwh=4.0, soc_kwh=2.0, charge_kw=2.0, discharge_kw=2.0
    )


def test_json_round_trip_keeps_an_unknown_price():
    problem = Problem(slots=make_slots(HOLE), loads=(bat(),))
    data = problem_to_json(problem)
    assert data["slots"][1]["price"] is None
    assert parse_problem(json.loads(json.dumps(data))) == problem


def test_the_battery_holds_and_the_base_load_costs_nothing_there():
    problem = Problem(slots=make_slots(HOLE), base_load_kw=1.0, loads=(bat(),))
    sim = simulate_detail(problem, Decisions(mode={"b": (H, F, N, H)}))
    assert sim.soc_kwh == (2.0, 2.0, 2.0, 1.5, 1.5)  # no charge in the hole
    assert sim.net_import_kwh == (0.5, 0.5, 0.0, 0.5)  # energy counts
    assert sim.cost == pytest.approx(2.0 * 0.5 + 9.0 * 0.5)  # the hole costs 0


def test_no_load_runs_or_starts_in_an_unpriced_slot():
    problem = Problem(slots=make_slots(HOLE), loads=())
    car = InterruptibleLoad(id="car", power_kw=2.0, slots=4)
    run = run_slots(problem, car)
    assert run.eligible == (0, 2, 3)
    assert run.shortfall == 1
    assert run.unpriced == 1
    starts = cycle_starts(problem, CycleLoad(id="dw", profile_kwh=(1.0, 1.0)))
    assert starts.fitting == (2,)
    assert starts.unpriced == 2


def test_the_plan_says_which_slots_have_no_price_yet():
    problem = Problem(
        slots=make_slots([3.0, None, None, 4.0]),
        loads=(
            InterruptibleLoad(id="car", power_kw=2.0, slots=3),
            CycleLoad(id="dw", profile_kwh=(1.0, 1.0)),
            bat(),
        ),
    )
    result = plan(problem)
    assert result.decisions.on["car"] == (True, False, False, True)
    assert result.decisions.start["dw"] is None
    assert result.decisions.mode["b"][1:3] == (H, H)
    out = plan_to_json(result)
    assert (
        "2 slot(s) of the window have no price yet"
        in (out["explain"]["loads"]["car"]["summary"])
    )
    assert "no price yet" in out["explain"]["loads"]["dw"]["summary"]
    assert out["explain"]["loads"]["dw"]["deferred"] is True


def test_the_import_limit_applies_in_unpriced_slots():
    problem = Problem(
        slots=make_slots([3.0, None, 4.0]),
        base_load_kw=(1.0, 5.0, 1.0),
        import_limit_kw=4.0,
        loads=(bat(),),  # it could discharge 2 kW, but it holds without a price
    )
    with pytest.raises(InfeasibleError, match="base load is 5 kW"):
        plan(problem)
    best = plan(problem, best_effort=True)
    assert best.limit_violation_kwh == pytest.approx(0.5)


def test_the_rules_hold_the_battery_without_a_price():
    problem = Problem(slots=make_slots([1.0, None, 20.0, None]), loads=(bat(),))
    assert rule_decisions(problem).mode["b"] == (F, H, N, H)
