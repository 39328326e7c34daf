"""The exact model: a MILP of the whole horizon solved by HiGHS (highspy).

Variables: a binary per eligible (interruptible load, slot), a binary per
allowed cycle start, and per battery slot five selector binaries, the grid
charge C, the discharge D and the SoC.  The battery rules are mins, modelled
exactly: ``a1``/``a2`` select which term of min(charge_kw·dt, room/eff) the
charge equals (their sum is the force_charge mode), ``b1``/``b2``/``b3`` which
term of min(discharge_kw·dt, SoC - min SoC, demand) the discharge equals
(their sum is the normal mode).  Each selected term gives C (or D) >= term,
while C (D) <= every term, so C and D are exactly the simulator's values.
(``normal`` is not offered while SoC < min SoC; it would act like
``charge_only`` there, so no cost is lost.)

Solving is lexicographic: minimise cost, then, with cost fixed within
``COST_TOLERANCE``, minimise a tie-break score that prefers the earliest slots.
With ``best_effort`` an infeasible import limit first minimises the energy
imported above the limit.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .eligibility import cycle_starts, run_slots
from .errors import InfeasibleError
from .feasibility import limit_infeasibility
from .highs import new_highs
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)

if TYPE_CHECKING:
    import highspy

MIP_REL_GAP = 1e-7
COST_TOLERANCE_ABS = 1e-6
COST_TOLERANCE_REL = 1e-7
TIME_LIMIT_S = 60.0
_FEASIBLE = 2  # HiGHS primal_solution_status of a feasible solution


def _new_highs() -> highspy.Highs:
    """Create a silent single-threaded HiGHS instance for the MILP."""
    solver = new_highs()
    solver.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    solver.setOptionValue("mip_abs_gap", COST_TOLERANCE_ABS / 10)
    solver.setOptionValue("time_limit", TIME_LIMIT_S)
    return solver


@dataclass
class _Lp:
    """Columns and rows collected before handing them to HiGHS in one go."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    binary: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def col(self, lower: float, upper: float, *, binary: bool = False) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        self.binary.append(binary)
        return len(self.lower) - 1

    def row(
        self, terms: Iterable[tuple[int, float]], lower: float, upper: float
    ) -> None:
        for col, coef in terms:
            self.index.append(col)
            self.value.append(coef)
        self.starts.append(len(self.index))
        self.row_lower.append(lower)
        self.row_upper.append(upper)


@dataclass(frozen=True, kw_only=True, slots=True)
class MilpResult:
    """Decisions of the MILP, its objective (pence) and any limit excess."""

    decisions: Decisions
    objective: float
    limit_excess_kwh: float
    optimal: bool


@dataclass
class _Model:
    """The built model and how to read decisions back from a solution."""

    lp: _Lp
    cost: dict[int, float]
    offset: float
    tie: dict[int, float]
    slack: list[int]
    on: dict[str, dict[int, int]]
    start: dict[str, dict[int, int]]
    modes: dict[str, list[tuple[list[int], list[int]]]]


def _battery_rows(  # noqa: PLR0917
    lp: _Lp,
    model: _Model,
    battery: Battery,
    problem: Problem,
    demand: list[list[tuple[int, float]]],
    const: list[float],
    peak: list[float],
    grid: list[list[tuple[int, float]]],
) -> None:
    count = len(problem.slots)
    dt = problem.slot_hours
    eff = battery.efficiency
    cap = battery.capacity_kwh
    smin = battery.min_soc_kwh
    cmax = battery.charge_kw * dt
    dmax = battery.discharge_kw * dt
    room_max = cap / eff
    soc_span = cap - smin
    soc_col: int | None = None  # None: SoC is the constant soc_kwh
    soc0 = battery.soc_kwh
    selectors: list[tuple[list[int], list[int]]] = []
    for t in range(count):
        a1, a2, b1, b2, b3 = (lp.col(0, 1, binary=True) for _ in range(5))
        charge = lp.col(0, cmax)
        out = lp.col(0, dmax)
        nxt = lp.col(0, cap)
        selectors.append(([a1, a2], [b1, b2, b3]))

        def soc_terms(
            coef: float, col: int | None = soc_col
        ) -> list[tuple[int, float]]:
            return [] if col is None else [(col, coef)]

        soc_const = soc0 if soc_col is None else 0.0
        lp.row([(a1, 1), (a2, 1), (b1, 1), (b2, 1), (b3, 1)], -1, 1)
        lp.row([(charge, 1), (a1, -cmax), (a2, -cmax)], -cmax, 0)
        lp.row([(charge, 1), *soc_terms(1 / eff)], -cmax, room_max - soc_const / eff)
        lp.row([(charge, 1), (a1, -cmax)], 0, cmax)
        lp.row(
            [(charge, 1), *soc_terms(1 / eff), (a2, -room_max)],
            -soc_const / eff,
            cmax + room_max,
        )
        lp.row([(out, 1), (b1, -dmax), (b2, -dmax), (b3, -dmax)], -dmax, 0)
        lp.row(
            [(out, 1), *soc_terms(-1), (b1, smin), (b2, smin), (b3, smin)],
            -cap,
            soc_const,
        )
        lp.row([(out, 1), *((c, -k) for c, k in demand[t])], -peak[t], const[t])
        lp.row([(out, 1), (b1, -dmax)], 0, dmax)
        lp.row(
            [(out, 1), *soc_terms(-1), (b2, -soc_span)],
            soc_const - smin - soc_span,
            dmax,
        )
        lp.row(
            [(out, 1), *((c, -k) for c, k in demand[t]), (b3, -peak[t])],
            const[t] - peak[t],
            dmax,
        )
        lp.row(
            [(nxt, 1), *soc_terms(-1), (charge, -eff), (out, 1)], soc_const, soc_const
        )
        price = problem.slots[t].price
        model.cost[charge] = model.cost.get(charge, 0.0) + price
        model.cost[out] = model.cost.get(out, 0.0) - price
        for col in (a1, a2):
            model.tie[col] = 2 * t + 1
        for col in (b1, b2, b3):
            model.tie[col] = -(count - t)
        grid[t] += [(charge, 1.0), (out, -1.0)]
        soc_col = nxt
    model.modes[battery.id] = selectors


def build_model(problem: Problem) -> _Model:  # noqa: C901, PLR0912
    """Translate ``problem`` into a MILP."""
    count = len(problem.slots)
    dt = problem.slot_hours
    lp = _Lp()
    const = [kw * dt for kw in problem.base_kw]
    peak = list(const)
    demand: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    model = _Model(
        lp=lp, cost={}, offset=0.0, tie={}, slack=[], on={}, start={}, modes={}
    )
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                run = run_slots(problem, load)
                forced = set(run.forced)
                cols: dict[int, int] = {}
                kwh = load.power_kw * dt
                for t in run.eligible:
                    col = lp.col(1.0 if t in forced else 0.0, 1.0, binary=True)
                    cols[t] = col
                    demand[t].append((col, kwh))
                    peak[t] += kwh
                    model.tie[col] = t + 1
                lp.row(((c, 1.0) for c in cols.values()), run.count, run.count)
                model.on[load.id] = cols
            case CycleLoad():
                starts: dict[int, int] = {}
                most = [0.0] * count
                for k in cycle_starts(problem, load).allowed:
                    col = lp.col(0.0, 1.0, binary=True)
                    starts[k] = col
                    model.tie[col] = k + 1
                    for i, kwh in enumerate(load.profile_kwh):
                        if kwh:
                            demand[k + i].append((col, kwh))
                            most[k + i] = max(most[k + i], kwh)
                if starts:
                    lp.row(((c, 1.0) for c in starts.values()), 1, 1)
                for t in range(count):
                    peak[t] += most[t]
                model.start[load.id] = starts
            case Battery():
                pass
    grid = [list(terms) for terms in demand]
    for load in problem.loads:
        if isinstance(load, Battery):
            _battery_rows(lp, model, load, problem, demand, const, peak, grid)
    for t, terms in enumerate(demand):
        price = problem.slots[t].price
        model.offset += price * const[t]
        for col, kwh in terms:
            model.cost[col] = model.cost.get(col, 0.0) + price * kwh
    if problem.import_limit_kw is not None:
        cap = problem.import_limit_kw * dt
        for t, terms in enumerate(grid):
            slack = lp.col(0.0, 0.0)
            model.slack.append(slack)
            lp.row([*terms, (slack, -1.0)], -float("inf"), cap - const[t])
    return model


def _pass(solver: highspy.Highs, model: _Model, costs: dict[int, float]) -> None:
    import highspy  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    lp = model.lp
    n_col = len(lp.lower)
    hlp = highspy.HighsLp()
    hlp.num_col_ = n_col
    hlp.num_row_ = len(lp.row_lower)
    cost = np.zeros(n_col)
    for col, value in costs.items():
        cost[col] = value
    hlp.col_cost_ = cost
    hlp.col_lower_ = np.array(lp.lower)
    hlp.col_upper_ = np.array(lp.upper)
    hlp.row_lower_ = np.array(lp.row_lower)
    hlp.row_upper_ = np.array(lp.row_upper)
    hlp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    hlp.a_matrix_.num_col_ = n_col
    hlp.a_matrix_.num_row_ = len(lp.row_lower)
    hlp.a_matrix_.start_ = np.array(lp.starts, dtype=np.int32)
    hlp.a_matrix_.index_ = np.array(lp.index, dtype=np.int32)
    hlp.a_matrix_.value_ = np.array(lp.value)
    hlp.integrality_ = [
        highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
        for b in lp.binary
    ]
    solver.passModel(hlp)


def _set_costs(solver: highspy.Highs, n_col: int, costs: dict[int, float]) -> None:
    import numpy as np  # noqa: PLC0415

    values = np.zeros(n_col)
    for col, value in costs.items():
        values[col] = value
    solver.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), values)


def _add_ceiling(solver: highspy.Highs, terms: dict[int, float], upper: float) -> None:
    import numpy as np  # noqa: PLC0415

    cols = np.array(list(terms), dtype=np.int32)
    vals = np.array(list(terms.values()))
    solver.addRow(-float("inf"), upper, len(cols), cols, vals)


def _warm_start(solver: highspy.Highs, values: list[float]) -> None:
    import numpy as np  # noqa: PLC0415

    solver.setSolution(
        len(values), np.arange(len(values), dtype=np.int32), np.array(values)
    )


def _solve(solver: highspy.Highs) -> tuple[str, list[float], float]:
    solver.run()
    status = solver.getModelStatus()
    name = solver.modelStatusToString(status)
    info = solver.getInfo()
    if info.primal_solution_status != _FEASIBLE:
        return name, [], float("inf")
    return name, list(solver.getSolution().col_value), info.objective_function_value


def _decisions(model: _Model, problem: Problem, values: list[float]) -> Decisions:
    count = len(problem.slots)
    on = {
        load_id: tuple(t in cols and values[cols[t]] > 0.5 for t in range(count))  # noqa: PLR2004
        for load_id, cols in model.on.items()
    }
    start = {
        load_id: next((k for k, col in cols.items() if values[col] > 0.5), None)  # noqa: PLR2004
        for load_id, cols in model.start.items()
    }
    mode: dict[str, tuple[BatteryMode, ...]] = {}
    for load_id, selectors in model.modes.items():
        modes: list[BatteryMode] = []
        for charge_sel, normal_sel in selectors:
            if sum(values[c] for c in charge_sel) > 0.5:  # noqa: PLR2004
                modes.append(BatteryMode.FORCE_CHARGE)
            elif sum(values[c] for c in normal_sel) > 0.5:  # noqa: PLR2004
                modes.append(BatteryMode.NORMAL)
            else:
                modes.append(BatteryMode.CHARGE_ONLY)
        mode[load_id] = tuple(modes)
    return Decisions(on=on, start=start, mode=mode)


def _tolerance(value: float) -> float:
    return COST_TOLERANCE_ABS + COST_TOLERANCE_REL * abs(value)


def solve_milp(
    problem: Problem, *, best_effort: bool = False, tie_break: bool = True
) -> MilpResult:
    """Solve ``problem`` exactly; raise :class:`InfeasibleError` if impossible."""
    model = build_model(problem)
    n_col = len(model.lp.lower)
    if n_col == 0:  # nothing to decide
        return MilpResult(
            decisions=_decisions(model, problem, []),
            objective=model.offset,
            limit_excess_kwh=0.0,
            optimal=True,
        )
    solver = _new_highs()
    _pass(solver, model, model.cost)
    status, values, objective = _solve(solver)
    excess = 0.0
    if not values and best_effort and model.slack:
        import numpy as np  # noqa: PLC0415

        slack = np.array(model.slack, dtype=np.int32)
        inf = np.full(len(slack), float("inf"))
        solver.changeColsBounds(len(slack), slack, np.zeros(len(slack)), inf)
        _set_costs(solver, n_col, dict.fromkeys(model.slack, 1.0))
        status, values, excess = _solve(solver)
        if values:
            _add_ceiling(solver, dict.fromkeys(model.slack, 1.0), excess + 1e-7)
            _set_costs(solver, n_col, model.cost)
            status, values, objective = _solve(solver)
    if not values:
        raise InfeasibleError("import_limit_kw", _diagnose(problem, status))
    optimal = status == "Optimal"
    if tie_break and model.tie:
        _add_ceiling(
            solver, model.cost, objective + _tolerance(objective + model.offset)
        )
        _set_costs(solver, n_col, model.tie)
        incumbent = list(values)
        _warm_start(solver, incumbent)
        _, tied, _ = _solve(solver)
        values = tied or incumbent
    return MilpResult(
        decisions=_decisions(model, problem, values),
        objective=objective + model.offset,
        limit_excess_kwh=excess,
        optimal=optimal,
    )


def _diagnose(problem: Problem, status: str) -> str:
    """Say why the limit cannot be met, as precisely as cheaply possible."""
    if problem.import_limit_kw is None:
        return f"the solver found no plan ({status})"
    return limit_infeasibility(problem)
