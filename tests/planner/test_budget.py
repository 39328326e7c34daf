"""The worst case is bounded: a deadline and a memory ceiling stop every search.

When either stops it, ``plan()`` returns the best plan found so far, marked
``optimal=False`` with a proven lower bound, its gap and a note; it never
crashes and never claims optimality it has not proved.
"""

from dataclasses import replace
import json
from pathlib import Path
import time

import pytest

from custom_components.hems.planner import (
    Battery,
    CycleLoad,
    InterruptibleLoad,
    Problem,
    budget as budget_module,
    parse_problem,
    plan,
    plan_to_json,
    simulate,
)
from custom_components.hems.planner.budget import Budget, BudgetExceededError
from custom_components.hems.planner.dp import build_model, search, solve_dp
from custom_components.hems.planner.feasibility import violations
from custom_components.hems.planner.firstplan import first_plan
from custom_components.hems.planner.lpbound import Bound, lp_multipliers
from custom_components.hems.planner.milp import solve_milp

from .helpers import close, make_slots

PROBLEMS = Path(__file__).parents[2] / "bench" / "problems"


def load(name: str) -> Problem:
    return parse_problem(json.loads((PROBLEMS / f"{name}.json").read_text()))


def battery(**kw: float) -> Battery:
    args = {
        "capacity_kwh": 5.0,
        "soc_kwh": 2.5,
        "min_soc_kwh": 0.5,
        "charge_kw": 2.5,
        "discharge_kw": 2.5,
        "efficiency": 0.9,
    }
    args.update(kw)
    return Battery(id="b", **args)


def coupled() -> Problem:
    """Return a small problem where the battery couples the loads."""
    return Problem(
        slots=make_slots([9.0, 1.0, 5.0, 30.0, 2.0, 25.0, 3.0, 28.0]),
        base_load_kw=0.4,
        import_limit_kw=9.0,
        loads=(
            InterruptibleLoad(id="car", power_kw=7.0, slots=3),
            CycleLoad(id="dw", profile_kwh=(0.5, 0.3)),
            battery(),
        ),
    )


def many_cycles(count: int = 20) -> Problem:
    """Short cycles that may all start in the same slots (2^count load moves)."""
    return Problem(
        slots=make_slots([5.0, 1.0, 8.0, 2.0]),
        base_load_kw=0.4,
        loads=(
            *(CycleLoad(id=f"c{i}", profile_kwh=(0.1,)) for i in range(count)),
            battery(),
        ),
    )


def assert_not_proven(result, reason: str) -> None:
    assert not result.optimal
    assert any(reason in note and "not proven optimal" in note for note in result.notes)
    assert result.bound is not None
    assert result.bound <= result.cost + 1e-9
    assert result.gap == pytest.approx(result.cost - result.bound)
    out = plan_to_json(result)["explain"]["plan"]
    assert out["optimal"] is False
    assert out["gap"] == pytest.approx(result.gap, abs=1e-6)


def test_budget_reports_the_first_limit_reached():
    assert Budget.start(0.0, 1e6).exceeded() == "deadline"
    spent = Budget.start(60.0, 1e6)
    with pytest.raises(BudgetExceededError) as err:
        spent.afford(2e12)  # bytes
    assert err.value.reason == "memory"
    assert spent.exceeded() == "memory"  # and it stays spent
    fresh = Budget.start(60.0, 1e6)
    assert fresh.exceeded() is None
    fresh.check()
    assert fresh.remaining_s() > 59


def test_afforded_bytes_count_until_the_resident_set_is_read_again(monkeypatch):
    monkeypatch.setattr(budget_module, "resident_bytes", lambda: 0)
    spent = Budget(deadline=time.monotonic() + 60, memory_bytes=100.0, baseline=0)
    spent.afford(60.0)
    with pytest.raises(BudgetExceededError):
        spent.afford(60.0)  # 120 bytes within 50 ms: over the ceiling


@pytest.mark.parametrize(
    "limits", [{"time_limit_s": -1.0}, {"memory_limit_mb": float("nan")}]
)
def test_limits_must_be_numbers_at_least_zero(limits):
    with pytest.raises(ValueError, match="limits must be >= 0"):
        plan(coupled(), **limits)


def test_an_optimal_plan_says_so():
    result = plan(coupled())
    assert result.optimal
    assert result.gap == 0
    assert result.relative_gap == 0
    assert result.bound == pytest.approx(result.cost)
    assert not result.notes
    out = plan_to_json(result)["explain"]["plan"]
    assert out["optimal"] is True
    assert out["bound"] == pytest.approx(result.cost, abs=1e-6)
    assert out["gap"] == 0
    assert out["relative_gap"] == 0


def test_no_time_returns_the_first_plan_with_its_gap():
    problem = coupled()
    exact = plan(problem)
    result = plan(problem, time_limit_s=0.0)
    assert_not_proven(result, "0 s deadline")
    assert not violations(problem, result.decisions)
    assert result.cost >= exact.cost - 1e-9
    assert result.bound <= exact.cost + 1e-9  # a lower bound on the optimum


def test_a_tiny_memory_ceiling_returns_a_plan_instead_of_growing():
    problem = coupled()
    result = plan(problem, memory_limit_mb=0.0)
    assert_not_proven(result, "0 MB memory ceiling")
    assert not violations(problem, result.decisions)


def test_load_moves_are_afforded_before_they_are_built():
    # Before: every subset of 20 cycles was built as one list (2^20 moves,
    # about a gigabyte); now the search stops at the ceiling first.
    problem = many_cycles()
    result = plan(problem, memory_limit_mb=64.0, solver="dp")
    assert_not_proven(result, "64 MB memory ceiling")
    assert not violations(problem, result.decisions)


class CountedBudget(Budget):
    """A budget that runs out at its n-th check."""

    def __init__(self, checks: int) -> None:
        """Run out at check number ``checks`` + 1."""
        super().__init__(deadline=time.monotonic() + 60, memory_bytes=1e12)
        self.checks = checks

    def check(self) -> None:
        """Count the check; raise once there are none left."""
        self.checks -= 1
        if self.checks < 0:
            raise BudgetExceededError("deadline")


def test_a_stopped_search_proves_a_bound_between_the_lp_and_the_optimum():
    problem = coupled()
    optimum = solve_dp(problem).bound
    model = build_model(problem)
    mult = lp_multipliers(model, best_effort=False)
    assert mult is not None
    lp = Bound(model, mult)
    root = (0,) * (len(model.runners) + len(model.cycles))
    lp_bound = lp.loads(0, root) + lp.battery(0, model.soc0)
    bounds = []
    for checks in range(1, 40):
        stopped = solve_dp(problem, budget=CountedBudget(checks))
        if stopped.optimal:
            break
        assert stopped.stopped == "deadline"
        assert stopped.bound <= optimum + 1e-9  # -inf if the LP did not finish
        bounds.append(stopped.bound)
    assert bounds
    assert max(bounds) > lp_bound + 1e-6  # the surviving states prove more


def test_every_search_checks_the_budget():
    problem = coupled()
    model = build_model(problem)
    with pytest.raises(BudgetExceededError):  # e.g. the first plan's battery search
        search(model, None, best_effort=False, budget=Budget.start(0.0))


def test_the_milp_stops_at_the_deadline_with_its_incumbent():
    problem = load("day_2020-02-13")
    budget = Budget.start(60.0)
    first = first_plan(problem, budget)
    assert first is not None
    start = first[0]
    found = solve_milp(problem, budget=Budget.start(0.0), start=start)
    assert not found.optimal
    assert found.stopped == "deadline"
    assert found.decisions == start
    result = plan(problem, solver="milp", time_limit_s=0.3)
    assert_not_proven(result, "deadline")
    assert not violations(problem, result.decisions)


def test_the_first_plan_fits_the_limit_with_the_battery_holding():
    problem = load("day_2020-01-02")
    first = first_plan(problem, Budget.start())
    assert first is not None
    decisions, cost = first
    assert set(decisions.mode["battery"]) == {"charge_only"}
    assert not violations(problem, decisions)
    assert cost == pytest.approx(simulate(problem, decisions))
    assert first_plan(problem, Budget.start(0.0)) is None  # no time for the MILP


def test_without_time_for_the_milp_the_first_plan_is_the_greedy_one():
    problem = Problem(
        slots=make_slots([1.0, 2.0, 3.0, 9.0]),
        base_load_kw=0.4,
        import_limit_kw=8.0,
        loads=(
            InterruptibleLoad(id="car", power_kw=7.0, slots=1),
            InterruptibleLoad(id="heater", power_kw=3.0, slots=1),
            battery(),
        ),
    )
    first = first_plan(problem, Budget.start(0.0))
    assert first is not None  # both want slot 0; the heater moves to slot 1
    assert first[0].on == {
        "car": (True, False, False, False),
        "heater": (False, True, False, False),
    }
    assert not violations(problem, first[0])


def test_without_any_plan_each_load_runs_at_its_cheapest_and_says_so(monkeypatch):
    problem = coupled()
    monkeypatch.setattr(
        "custom_components.hems.planner.solve.first_plan", lambda *_: None
    )
    result = plan(problem, time_limit_s=0.0)
    assert not result.optimal
    assert any("before it found a plan" in note for note in result.notes)


def test_a_broken_limit_without_a_plan_is_reported(monkeypatch):
    problem = replace(coupled(), import_limit_kw=7.3)
    monkeypatch.setattr(
        "custom_components.hems.planner.solve.first_plan", lambda *_: None
    )
    result = plan(problem, time_limit_s=0.0)
    assert not result.optimal
    assert result.limit_violation_kwh > 0
    assert any("is broken by" in note for note in result.notes)


def test_best_effort_gap_is_on_the_cost_of_plans_with_that_excess():
    problem = replace(coupled(), import_limit_kw=3.0)
    result = plan(problem, best_effort=True)
    assert result.optimal
    assert result.limit_violation_kwh > 0
    assert close(result.bound, result.cost)


@pytest.mark.parametrize(
    "name",
    ["stress_30_cycles_96_slots", "stress_12_loads_battery_limit", "stress_1000_slots"],
)
def test_stress_problems_stop_at_the_deadline_with_a_plan(name):
    problem = load(name)
    result = plan(problem, best_effort=True, time_limit_s=1.0)
    assert_not_proven(result, "")
    assert not violations(problem, result.decisions)
    assert result.limit_violation_kwh == 0


def test_a_model_too_big_for_the_ceiling_is_not_built():
    long = Problem(
        slots=make_slots([float(i % 7) for i in range(2000)]),
        base_load_kw=0.4,
        loads=(InterruptibleLoad(id="car", power_kw=7.0, slots=40), battery()),
    )
    with pytest.raises(BudgetExceededError, match="memory"):
        lp_multipliers(build_model(long), best_effort=False, budget=Budget.start(60, 1))
    start = first_plan(long, Budget.start())
    assert start is not None
    found = solve_milp(long, budget=Budget.start(60, 1), start=start[0])
    assert found.stopped == "memory"
    assert found.decisions == start[0]
