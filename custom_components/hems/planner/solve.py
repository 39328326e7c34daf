"""``plan()``: exact fast paths where loads cannot interact, else the exact DP."""

import time
from typing import Literal

from .dp import solve_dp
from .errors import InfeasibleError
from .explain import explain
from .feasibility import LIMIT_TOLERANCE_KWH, limit_excess_kwh
from .milp import solve_milp
from .models import Battery, Plan, Problem
from .rules import independent_decisions
from .simulate import simulate_detail
from .validation import validate_problem


def _within_limit(problem: Problem, net_import_kwh: tuple[float, ...]) -> bool:
    if problem.import_limit_kw is None:
        return True
    cap = problem.import_limit_kw * problem.slot_hours + LIMIT_TOLERANCE_KWH
    return all(kwh <= cap for kwh in net_import_kwh)


type Solver = Literal["auto", "dp", "milp"]


def plan(
    problem: Problem,
    *,
    best_effort: bool = False,
    solver: Solver = "auto",
    validate: bool = True,
) -> Plan:
    """Return the cheapest decisions for ``problem``; ties go to the earliest slots.

    Without a battery each load's own optimum (sort or scan) is the joint
    optimum whenever together they respect the import limit; otherwise the
    exact dynamic programme (``solver="dp"``, the default) or the MILP
    (``solver="milp"``, HiGHS) solves the coupled problem.  Raises
    :class:`InfeasibleError` if the limit cannot be met, unless ``best_effort``,
    which returns the cheapest plan with the least energy above the limit.
    """
    if validate:
        validate_problem(problem)
    began = time.perf_counter()
    notes: list[str] = []
    decisions = independent_decisions(problem)
    sim = simulate_detail(problem, decisions)
    method = "fast"
    has_battery = any(isinstance(load, Battery) for load in problem.loads)
    coupled = has_battery or not _within_limit(problem, sim.net_import_kwh)
    if solver == "milp":
        result = solve_milp(problem, best_effort=best_effort)
        decisions = result.decisions
        method = "milp"
        if not result.optimal:
            notes.append("solver stopped before proving optimality")
    elif coupled or solver == "dp":
        found = solve_dp(problem, best_effort=best_effort)
        decisions = found.decisions
        method = "dp"
        if not found.optimal:
            notes.append("search stopped at its time limit: plan not proven optimal")
    sim = simulate_detail(problem, decisions)
    excess = limit_excess_kwh(problem, sim.net_import_kwh)
    if excess > LIMIT_TOLERANCE_KWH:
        if not best_effort:  # pragma: no cover - the MILP never returns this
            raise InfeasibleError("import_limit_kw", "plan exceeds the limit")
        notes.append(
            f"best effort: the import limit {problem.import_limit_kw:g} kW cannot be "
            f"met; {excess:.3f} kWh imported above it"
        )
    dt = problem.slot_hours
    return Plan(
        problem=problem,
        decisions=decisions,
        cost=sim.cost,
        net_import_kw=tuple(kwh / dt for kwh in sim.net_import_kwh),
        soc_kwh=sim.soc_kwh,
        explain=explain(problem, decisions, sim),
        method=method,
        limit_violation_kwh=excess if excess > LIMIT_TOLERANCE_KWH else 0.0,
        notes=tuple(notes),
        seconds=time.perf_counter() - began,
    )
