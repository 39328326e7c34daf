"""``plan()``: exact fast paths where loads cannot interact, else the MILP."""

import time

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


def plan(problem: Problem, *, best_effort: bool = False, validate: bool = True) -> Plan:
    """Cheapest decisions for ``problem``; ties go to the earliest slots.

    Without a battery each load's own optimum (sort or scan) is the joint
    optimum whenever together they respect the import limit, so the MILP is
    only built when a battery or a binding limit couples the loads.  Raises
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
    if has_battery or not _within_limit(problem, sim.net_import_kwh):
        result = solve_milp(problem, best_effort=best_effort)
        decisions = result.decisions
        sim = simulate_detail(problem, decisions)
        method = "milp"
        if not result.optimal:
            notes.append("solver stopped before proving optimality")
    excess = limit_excess_kwh(problem, sim.net_import_kwh)
    if excess > LIMIT_TOLERANCE_KWH:
        if not best_effort:  # pragma: no cover - the MILP never returns this
            raise InfeasibleError("import_limit_kw", "plan exceeds the limit")
        notes.append(
            f"best effort: the import limit {problem.import_limit_kw:g} kW cannot be "
            f"met; {excess:.3f} kWh imported above it"
        )
    dt = problem.slot_hours
    notes.append(f"solved by {method} in {1000 * (time.perf_counter() - began):.1f} ms")
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
    )
