"""The exact solver: one MILP of the whole horizon, solved by HiGHS (highspy).

Loads: a binary per eligible (interruptible load, slot) with sum = count
(opportunistic slots fixed at 1), a binary per allowed cycle start with
sum = 1.  The battery (:mod:`.milp_battery`): mode selectors and the
simulator's min() rules as exact selector columns, or power setpoints.  The
grid (:mod:`.milp_grid`): import = net + export + curtailment with binaries
only where another split could pay, and the import limit (in best effort
with a slack priced at ``EXCESS_WEIGHT`` p/kWh).  Unpriced slots have no load
columns and cost nothing; the battery holds in them.  Every plan is a point
of the model at its simulated cost and every point's objective is at least
the simulated cost of the decisions read from it, so the optimum is the
plan's cost and HiGHS's dual bound a lower bound on every plan's cost.
Big-Ms are per-slot bounds (the SoC reachable by slot t, the most a slot can
draw or push out); a selector that cannot bind is not created.

HiGHS starts from a known plan (``setSolution``), stops at the budget's
deadline (``time_limit``) or memory ceiling (an interrupt callback) and then
returns its best plan and bound.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .budget import Budget, BudgetExceededError, model_bytes
from .eligibility import cycle_starts, run_slots
from .errors import InfeasibleError
from .feasibility import limit_infeasibility, weighted_cost
from .highs import interrupt_on, new_highs
from .milp_battery import BatterySlot, mode_battery, power_battery
from .milp_grid import Grid, grid
from .milp_matrix import Matrix
from .milp_site import Site
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)
from .outcome import Outcome
from .simulate import simulate_detail

MIP_REL_GAP = 1e-9
MIP_ABS_GAP = 1e-7
FEASIBILITY_TOLERANCE = 1e-9
_INF = float("inf")
# A plan read back that costs more than the solver's objective by this much
# (pence, relative to 1 + |objective|) is not the point it solved.
MISMATCH_P = 1e-6
_FEASIBLE = 2  # HiGHS primal_solution_status of a feasible solution


@dataclass
class Model:
    """The MILP and how to read decisions from (and write them to) a solution."""

    matrix: Matrix
    offset: float
    on: dict[str, dict[int, int]]
    start: dict[str, dict[int, int]]
    battery: Battery | None = None
    slots: list[BatterySlot] = field(default_factory=list)
    grid: Grid = field(default_factory=Grid)

    @property
    def infeasible(self) -> bool:
        """Whether some slot's constant import is above the limit."""
        return self.grid.infeasible


def _interruptible(
    problem: Problem, load: InterruptibleLoad, matrix: Matrix, site: Site
) -> dict[int, int]:
    run = run_slots(problem, load)
    forced = set(run.forced)
    kwh = load.power_kw * site.dt
    cols: dict[int, int] = {}
    for t in run.eligible:
        low = 1.0 if t in forced else 0.0
        cols[t] = col = matrix.col(site.prices[t] * kwh, low, 1.0, binary=True)
        site.loads[t].append((col, kwh))
        site.peak[t] += kwh
    if cols:
        matrix.row([(c, 1.0) for c in cols.values()], run.count, run.count)
    return cols


def _cycle(
    problem: Problem, load: CycleLoad, matrix: Matrix, site: Site
) -> dict[int, int]:
    starts: dict[int, int] = {}
    most = [0.0] * site.count
    profile = load.profile_kwh
    for k in cycle_starts(problem, load).allowed:
        cost = sum(e * site.prices[k + i] for i, e in enumerate(profile))
        starts[k] = col = matrix.col(cost, 0.0, 1.0, binary=True)
        for i, e in enumerate(profile):
            if e:
                site.loads[k + i].append((col, e))
                most[k + i] = max(most[k + i], e)
    if starts:
        matrix.row([(c, 1.0) for c in starts.values()], 1.0, 1.0)
    for t, e in enumerate(most):
        site.peak[t] += e
    return starts


def _site(problem: Problem) -> Site:
    count = len(problem.slots)
    dt = problem.slot_hours
    base = [kw * dt for kw in problem.base_kw]
    return Site(
        count=count,
        dt=dt,
        prices=problem.prices,
        export_prices=problem.export_prices,
        priced=problem.priced,
        const=base,
        peak=list(base),
        pv=problem.pv_kwh,
        export_cap=problem.export_cap_kwh,
        loads=[[] for _ in range(count)],
        battery=[[] for _ in range(count)],
    )


def build_model(problem: Problem, *, best_effort: bool) -> Model:
    """Translate ``problem`` into the MILP (see the module docstring)."""
    matrix = Matrix()
    model = Model(matrix, 0.0, {}, {})
    site = _site(problem)
    model.offset = sum(
        p * (c - g) for p, c, g in zip(site.prices, site.const, site.pv, strict=True)
    )
    for load in problem.loads:
        if isinstance(load, InterruptibleLoad):
            model.on[load.id] = _interruptible(problem, load, matrix, site)
        elif isinstance(load, CycleLoad):
            model.start[load.id] = _cycle(problem, load, matrix, site)
        else:
            model.battery = load
    site.lowest_net = [c - g for c, g in zip(site.const, site.pv, strict=True)]
    site.highest_net = [c - g for c, g in zip(site.peak, site.pv, strict=True)]
    b = model.battery
    if b is not None:
        build = power_battery if b.control == "power" else mode_battery
        model.slots = build(b, site, matrix)
    model.grid = grid(
        site,
        matrix,
        None if problem.import_limit_kw is None else problem.import_limit_kw * site.dt,
        (problem.import_floors_kwh, problem.import_ceilings_kwh),
        best_effort=best_effort,
    )
    return model


def _warm_loads(model: Model, decisions: Decisions, values: list[float]) -> None:
    for load_id, cols in model.on.items():
        flags = decisions.on[load_id]
        for t, col in cols.items():
            values[col] = 1.0 if flags[t] else 0.0
    for load_id, cols in model.start.items():
        start = decisions.start[load_id]
        if start is not None and start in cols:
            values[cols[start]] = 1.0


def _warm_battery(
    model: Model, problem: Problem, decisions: Decisions, values: list[float]
) -> None:
    b = model.battery
    if b is None:
        return
    if b.control == "power":
        flows = simulate_detail(problem, decisions).load_kwh[b.id]
        for at, flow in zip(model.slots, flows, strict=True):
            for c in at.charge:
                values[c] = max(flow, 0.0)
            for d in at.out:
                values[d] = max(-flow, 0.0)
            if at.direction >= 0:
                values[at.direction] = 1.0 if flow > 0 else 0.0
        return
    for at, mode in zip(model.slots, decisions.mode[b.id], strict=True):
        col = at.modes.get(BatteryMode(mode))
        if col is not None:
            values[col] = 1.0


def warm_values(model: Model, problem: Problem, decisions: Decisions) -> list[float]:
    """Return every column's value for ``decisions`` (a start for HiGHS)."""
    values = [0.0] * len(model.matrix.cost)
    _warm_loads(model, decisions, values)
    _warm_battery(model, problem, decisions, values)
    for fill in model.matrix.fills:
        fill(values)
    return values


def _battery_decisions(
    model: Model, b: Battery, dt: float, values: Sequence[float]
) -> Decisions:
    if b.control == "power":
        kw = []
        for at in model.slots:  # the pure action storing what the point stores
            stored = b.efficiency * sum(values[c] for c in at.charge) - sum(
                values[d] for d in at.out
            )
            kw.append((stored / b.efficiency if stored > 0 else stored) / dt)
        return Decisions(power={b.id: tuple(kw)})
    modes: list[BatteryMode] = []
    for at in model.slots:
        picked = [m for m, col in at.modes.items() if values[col] > 0.5]  # noqa: PLR2004
        modes.append(picked[0] if picked else BatteryMode.CHARGE_ONLY)
    return Decisions(mode={b.id: tuple(modes)})


def decisions_from(
    model: Model, problem: Problem, values: Sequence[float]
) -> Decisions:
    """Read the decisions from a solution."""
    count = len(problem.slots)
    on = {
        load_id: tuple(t in cols and values[cols[t]] > 0.5 for t in range(count))  # noqa: PLR2004
        for load_id, cols in model.on.items()
    }
    start = {
        load_id: next((k for k, col in cols.items() if values[col] > 0.5), None)  # noqa: PLR2004
        for load_id, cols in model.start.items()
    }
    b = model.battery
    if b is None:
        return Decisions(on=on, start=start)
    steer = _battery_decisions(model, b, problem.slot_hours, values)
    return Decisions(on=on, start=start, mode=steer.mode, power=steer.power)


def _highs_model(model: Model) -> Any:
    import highspy  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    matrix = model.matrix
    n_col = len(matrix.cost)
    hlp = highspy.HighsLp()
    hlp.num_col_ = n_col
    hlp.num_row_ = len(matrix.row_lower)
    hlp.offset_ = model.offset
    hlp.col_cost_ = np.array(matrix.cost)
    hlp.col_lower_ = np.array(matrix.lower)
    hlp.col_upper_ = np.array(matrix.upper)
    hlp.row_lower_ = np.array(matrix.row_lower)
    hlp.row_upper_ = np.array(matrix.row_upper)
    hlp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    hlp.a_matrix_.num_col_ = n_col
    hlp.a_matrix_.num_row_ = len(matrix.row_lower)
    hlp.a_matrix_.start_ = np.array(matrix.starts, dtype=np.int32)
    hlp.a_matrix_.index_ = np.array(matrix.index, dtype=np.int32)
    hlp.a_matrix_.value_ = np.array(matrix.value)
    hlp.integrality_ = [
        highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
        for b in matrix.binary
    ]
    return hlp


def _run(  # noqa: C901 - one solve, its statuses and the read-back check
    problem: Problem, budget: Budget, start: Decisions | None, *, weighted: bool
) -> Outcome | None:
    """One HiGHS solve; ``None`` if the model is infeasible."""
    import highspy  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    try:
        budget.afford(model_bytes(len(problem.slots), len(problem.loads)))
    except BudgetExceededError as stop:
        return Outcome(
            decisions=start,
            bound=-_INF,
            optimal=False,
            stopped=stop.reason,
            weighted=weighted,
            method="milp",
        )
    model = build_model(problem, best_effort=weighted)
    n_col = len(model.matrix.cost)
    if model.infeasible:
        return None
    if n_col == 0:  # nothing to decide
        nothing = decisions_from(model, problem, [])
        return Outcome(
            decisions=nothing, bound=model.offset, optimal=True, method="milp"
        )
    solver = new_highs()
    solver.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    solver.setOptionValue("mip_abs_gap", MIP_ABS_GAP)
    solver.setOptionValue("mip_feasibility_tolerance", FEASIBILITY_TOLERANCE)
    solver.setOptionValue("primal_feasibility_tolerance", FEASIBILITY_TOLERANCE)
    interrupt_on(solver, budget)
    solver.passModel(_highs_model(model))
    if start is not None:
        try:
            values = warm_values(model, problem, start)
        except KeyError, ValueError:  # not a plan of this problem: a cold start
            pass
        else:
            cols = np.arange(n_col, dtype=np.int32)
            solver.setSolution(n_col, cols, np.array(values))
    solver.run()
    status = solver.getModelStatus()
    if status in {
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    }:
        return None
    info = solver.getInfo()
    optimal = status == highspy.HighsModelStatus.kOptimal
    decisions: Decisions | None = None
    objective = _INF
    if info.primal_solution_status == _FEASIBLE:
        decisions = decisions_from(model, problem, solver.getSolution().col_value)
        objective = float(info.objective_function_value)
        simulated = weighted_cost(problem, decisions, weighted=weighted)
        if simulated > objective + MISMATCH_P * (1.0 + abs(objective)):
            if start is not None:  # HiGHS kept a warm start it mis-scored
                return _run(problem, budget, None, weighted=weighted)
            optimal, objective = False, simulated  # not the point it solved
    return _outcome(
        decisions, objective, optimal, float(info.mip_dual_bound), budget, weighted
    )


def _outcome(  # noqa: PLR0917
    decisions: Decisions | None,
    objective: float,
    optimal: bool,
    dual_bound: float,
    budget: Budget,
    weighted: bool,
) -> Outcome:
    """Return the outcome of a solve (its bound: the objective once optimal)."""
    bound = objective if optimal else dual_bound
    return Outcome(
        decisions=decisions,
        bound=min(bound, objective),
        optimal=optimal and decisions is not None,
        stopped=None if optimal else (budget.exceeded() or "solver"),
        weighted=weighted,
        method="milp",
    )


def solve_milp(
    problem: Problem,
    *,
    best_effort: bool = False,
    budget: Budget | None = None,
    start: Decisions | None = None,
    weighted: bool = False,
) -> Outcome:
    """Solve ``problem`` exactly within ``budget``, starting from ``start``.

    Raises :class:`InfeasibleError` if the import limit cannot be met, unless
    ``best_effort``: then the energy above it is priced at ``EXCESS_WEIGHT``
    (at once with ``weighted``).
    """
    budget = budget or Budget.start()
    result = None
    if not weighted:
        result = _run(problem, budget, start, weighted=False)
    if result is None and (best_effort or weighted):
        result = _run(problem, budget, start, weighted=True)
    if result is None:
        raise InfeasibleError("import_limit_kw", limit_infeasibility(problem))
    return result
