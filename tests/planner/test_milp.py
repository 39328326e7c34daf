"""The MILP represents every plan exactly: each plan is a point of it at its cost.

With ``test_solve_properties`` (the MILP's optimum is the brute-force optimum
and its objective the simulated cost of its decisions) this shows the
formulation neither cuts off a plan nor misprices one.
"""

import itertools

from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np

from custom_components.hems.planner import (
    Battery,
    BatteryMode,
    Decisions,
    InterruptibleLoad,
    Problem,
    Slot,
    simulate,
)
from custom_components.hems.planner.feasibility import limit_excess_kwh
from custom_components.hems.planner.milp import build_model, solve_milp, warm_values
from custom_components.hems.planner.outcome import EXCESS_WEIGHT
from custom_components.hems.planner.simulate import simulate_detail

from .helpers import all_decisions, at, close
from .test_solve_properties import problems

TOL = 1e-7


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 10_000))
def test_every_plan_is_a_feasible_point_at_its_simulated_cost(problem: Problem, seed):
    model = build_model(problem, best_effort=True)
    matrix = model.matrix
    rows = np.zeros((len(matrix.row_lower), len(matrix.cost)))
    for r, (a, b) in enumerate(itertools.pairwise(matrix.starts)):
        for i in range(a, b):
            rows[r, matrix.index[i]] += matrix.value[i]
    plans = list(itertools.islice(all_decisions(problem), 2000))
    rng = np.random.default_rng(seed)
    for k in rng.choice(len(plans), size=min(20, len(plans)), replace=False):
        decisions = plans[k]
        x = np.array(warm_values(model, problem, decisions))
        assert np.all(x >= np.array(matrix.lower) - TOL)
        assert np.all(x <= np.array(matrix.upper) + TOL)
        binary = np.array(matrix.binary, dtype=bool)
        assert np.all(np.abs(x[binary] - np.round(x[binary])) <= TOL)
        activity = rows @ x if len(x) else np.zeros(len(matrix.row_lower))
        assert np.all(activity >= np.array(matrix.row_lower) - TOL)
        assert np.all(activity <= np.array(matrix.row_upper) + TOL)
        sim = simulate_detail(problem, decisions)
        excess = limit_excess_kwh(problem, sim.net_import_kwh)
        objective = model.offset + float(np.dot(matrix.cost, x))
        assert close(objective, sim.cost + EXCESS_WEIGHT * excess), (objective, sim)


def _power_problem(prices, exports, pv, eff=0.9) -> Problem:
    return Problem(
        slots=tuple(
            Slot(start=at(i), price=p, export_price=e)
            for i, (p, e) in enumerate(zip(prices, exports, strict=True))
        ),
        base_load_kw=0.5,
        pv_kw=tuple(pv),
        export_limit_kw=1.0,
        loads=(
            InterruptibleLoad(id="car", power_kw=3.0, slots=1),
            Battery(
                id="b",
                capacity_kwh=4.0,
                soc_kwh=1.0,
                charge_kw=2.0,
                discharge_kw=2.0,
                efficiency=eff,
                control="power",
            ),
        ),
    )


def test_power_battery_with_prices_at_least_zero_needs_only_load_binaries():
    problem = _power_problem(
        [10.0, 20.0, 5.0, 30.0], [4.0, 6.0, 1.0, 8.0], [0, 3, 4, 0]
    )
    model = build_model(problem, best_effort=False)
    assert sum(model.matrix.binary) == len(problem.slots)  # the car's slots
    assert all(at.direction == -1 for at in model.slots)


def test_negative_prices_add_direction_and_curtailment_binaries_there_only():
    problem = _power_problem(
        [10.0, -5.0, 5.0, 30.0], [4.0, -1.0, 1.0, 8.0], [0, 4, 4, 0]
    )
    model = build_model(problem, best_effort=False)
    directions = [at.direction >= 0 for at in model.slots]
    assert directions == [False, True, False, False]
    # slot 1: the battery's direction, the grid's (export -1 p > import -5 p), curtail
    assert sum(model.matrix.binary) == len(problem.slots) + 3


def test_power_start_is_used_and_the_result_is_its_simulated_cost():
    problem = _power_problem(
        [10.0, -5.0, 5.0, 30.0], [4.0, -1.0, 12.0, 8.0], [0, 4, 4, 0]
    )
    start = Decisions(on={"car": (True, False, False, False)}, power={"b": (0.0,) * 4})
    warm = solve_milp(problem, start=start)
    cold = solve_milp(problem)
    assert warm.optimal
    assert cold.optimal
    assert warm.decisions is not None
    assert set(warm.decisions.power) == {"b"}
    assert close(simulate(problem, warm.decisions), warm.bound)
    assert close(warm.bound, cold.bound)
    assert warm.bound < simulate(problem, start) - 1.0


def test_a_start_for_the_other_control_is_ignored():
    problem = _power_problem(
        [10.0, -5.0, 5.0, 30.0], [4.0, -1.0, 12.0, 8.0], [0, 4, 4, 0]
    )
    modes = Decisions(
        on={"car": (True, False, False, False)},
        mode={"b": (BatteryMode.CHARGE_ONLY,) * 4},
    )
    result = solve_milp(problem, start=modes)
    assert result.optimal
    assert close(result.bound, solve_milp(problem).bound)
