"""The MILP represents every plan exactly: each plan is a point of it at its cost.

With ``test_solve_properties`` (the MILP's optimum is the brute-force optimum
and its objective the simulated cost of its decisions) this shows the
formulation neither cuts off a plan nor misprices one.
"""

import itertools

from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np

from custom_components.hems.planner import Problem
from custom_components.hems.planner.feasibility import limit_excess_kwh
from custom_components.hems.planner.milp import build_model, warm_values
from custom_components.hems.planner.outcome import EXCESS_WEIGHT
from custom_components.hems.planner.simulate import simulate_detail

from .helpers import all_decisions, close
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
