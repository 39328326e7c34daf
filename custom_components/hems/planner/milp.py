"""The exact solver: one MILP of the whole horizon, solved by HiGHS (highspy).

Loads: a binary x per eligible (interruptible load, slot) with sum x = count
(opportunistic slots fixed at 1), a binary y per allowed cycle start with
sum y = 1.  Battery, per priced slot: mode binaries f (force charge) and n
(normal), f + n <= 1 (neither: hold), grid charge C, discharge D and the SoC
s' = s + eff*C - D.  The simulator's min() rules are exact with one selector
per way a rule can bind, created only where it can:

* force charge draws min(rate, room/eff): C <= rate*f, and either C = rate
  (C >= rate*(f - full)) or the battery fills (s' >= cap*full), full <= f;
* normal discharges min(rate, SoC - min SoC, demand): D <= rate*n,
  D <= demand, s' >= min SoC, and one of D >= rate*g1, s' <= min SoC (g2),
  D >= demand (g3 = n - g1 - g2 >= 0).

Big-Ms are per-slot bounds (the SoC reachable by slot t, the largest possible
demand); a selector that cannot bind is not created (a slot no load can use
has constant demand; a battery that cannot be full by then has no ``full``).
The import limit is a row per slot (in best effort with a slack priced at
``EXCESS_WEIGHT`` p/kWh).  Unpriced slots have no battery columns (it holds)
and no load columns.  The objective is the plan's cost, so HiGHS's dual
bound is a lower bound on every plan's cost.

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
from .feasibility import limit_infeasibility
from .highs import interrupt_on, new_highs
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)
from .outcome import EXCESS_WEIGHT, Outcome
from .simulate import Simulation, simulate_detail

MIP_REL_GAP = 1e-9
MIP_ABS_GAP = 1e-7
FEASIBILITY_TOLERANCE = 1e-9
_TOL = 1e-12
_INF = float("inf")
_FEASIBLE = 2  # HiGHS primal_solution_status of a feasible solution


@dataclass
class _Matrix:
    """Columns and rows collected before handing them to HiGHS in one go."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    binary: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def col(
        self, cost: float, lower: float, upper: float, *, binary: bool = False
    ) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.binary.append(binary)
        return len(self.cost) - 1

    def row(
        self, terms: Sequence[tuple[int, float]], lower: float, upper: float
    ) -> None:
        for col, coef in terms:
            self.index.append(col)
            self.value.append(coef)
        self.starts.append(len(self.index))
        self.row_lower.append(lower)
        self.row_upper.append(upper)


@dataclass(frozen=True, slots=True)
class _Slot:
    """The battery's columns in one slot (-1: not created)."""

    f: int
    n: int
    full: int
    g1: int
    g2: int
    charge: int
    out: int
    soc: int  # SoC after the slot


@dataclass
class Model:
    """The MILP and how to read decisions from (and write them to) a solution."""

    matrix: _Matrix
    offset: float
    on: dict[str, dict[int, int]]
    start: dict[str, dict[int, int]]
    battery: Battery | None = None
    slots: list[_Slot | None] = field(default_factory=list)  # None: holds
    slack: list[int] = field(default_factory=list)
    infeasible: bool = False  # some slot's constant demand is above the limit


@dataclass(frozen=True, slots=True)
class _Site:
    count: int
    dt: float
    prices: list[float]
    priced: tuple[bool, ...]
    const: list[float]  # kWh drawn whatever the plan does
    peak: list[float]  # the most every slot can draw
    terms: list[list[tuple[int, float]]]  # load columns drawing in each slot


def _interruptible(
    problem: Problem, load: InterruptibleLoad, matrix: _Matrix, site: _Site
) -> dict[int, int]:
    run = run_slots(problem, load)
    forced = set(run.forced)
    kwh = load.power_kw * site.dt
    cols: dict[int, int] = {}
    for t in run.eligible:
        low = 1.0 if t in forced else 0.0
        cols[t] = col = matrix.col(site.prices[t] * kwh, low, 1.0, binary=True)
        site.terms[t].append((col, kwh))
        site.peak[t] += kwh
    if cols:
        matrix.row([(c, 1.0) for c in cols.values()], run.count, run.count)
    return cols


def _cycle(
    problem: Problem, load: CycleLoad, matrix: _Matrix, site: _Site
) -> dict[int, int]:
    starts: dict[int, int] = {}
    most = [0.0] * site.count
    profile = load.profile_kwh
    for k in cycle_starts(problem, load).allowed:
        cost = sum(e * site.prices[k + i] for i, e in enumerate(profile))
        starts[k] = col = matrix.col(cost, 0.0, 1.0, binary=True)
        for i, e in enumerate(profile):
            if e:
                site.terms[k + i].append((col, e))
                most[k + i] = max(most[k + i], e)
    if starts:
        matrix.row([(c, 1.0) for c in starts.values()], 1.0, 1.0)
    for t, e in enumerate(most):
        site.peak[t] += e
    return starts


def _reach(site: _Site, b: Battery) -> tuple[list[float], list[float]]:
    """Return the lowest and highest SoC possible at each slot boundary."""
    dt = site.dt
    rate_in = b.charge_kw * dt * b.efficiency
    rate_out = b.discharge_kw * dt
    low, high = [b.soc_kwh], [b.soc_kwh]
    for t in range(site.count):
        lo, hi = low[-1], high[-1]
        if site.priced[t]:
            hi = min(b.capacity_kwh, hi + rate_in)
            if lo > b.min_soc_kwh:
                lo = max(b.min_soc_kwh, lo - min(rate_out, site.peak[t]))
        low.append(lo)
        high.append(hi)
    return low, high


@dataclass(frozen=True, slots=True)
class _Span:
    """The battery in slot t: SoC reachable before and after, the SoC column."""

    t: int
    before: float  # lowest SoC before the slot
    top: float  # highest SoC before the slot
    lo: float  # lowest SoC after it
    hi: float  # highest SoC after it
    nxt: int  # column of the SoC after the slot


def _charge(
    b: Battery, site: _Site, span: _Span, matrix: _Matrix
) -> tuple[int, int, int]:
    """Force charge: C <= rate*f; C = rate (unless full) or the battery fills."""
    draw = b.charge_kw * site.dt
    cap = b.capacity_kwh
    if draw <= _TOL or span.before >= cap - _TOL:
        return -1, -1, -1
    f = matrix.col(0.0, 0.0, 1.0, binary=True)
    charge = matrix.col(site.prices[span.t], 0.0, draw)
    matrix.row([(charge, 1.0), (f, -draw)], -_INF, 0.0)
    if span.hi < cap - _TOL:  # it cannot be full by then: the full rate
        matrix.row([(charge, 1.0), (f, -draw)], 0.0, 0.0)
        return f, -1, charge
    full = matrix.col(0.0, 0.0, 1.0, binary=True)
    matrix.row([(charge, 1.0), (f, -draw), (full, draw)], 0.0, _INF)
    matrix.row([(full, 1.0), (f, -1.0)], -_INF, 0.0)
    matrix.row([(span.nxt, 1.0), (full, -(cap - span.lo))], span.lo, _INF)
    return f, full, charge


def _discharge(
    b: Battery, site: _Site, span: _Span, matrix: _Matrix
) -> tuple[int, int, int, int]:
    """Discharge: D <= rate*n, D <= demand; D = rate, SoC = min SoC or D = demand."""
    rate = b.discharge_kw * site.dt
    m = b.min_soc_kwh
    t, peak, const = span.t, site.peak[span.t], site.const[span.t]
    if rate <= _TOL or peak <= _TOL or span.top <= m + _TOL:
        return -1, -1, -1, -1
    n = matrix.col(0.0, 0.0, 1.0, binary=True)
    out = matrix.col(-site.prices[t], 0.0, rate)
    loads = [(c, -k) for c, k in site.terms[t]]
    matrix.row([(out, 1.0), (n, -rate)], -_INF, 0.0)
    matrix.row([(out, 1.0), *loads], -_INF, const)
    demand = [(out, 1.0), *loads, (n, -peak)]  # D >= demand when g3 = n - g1 - g2
    picked = [(n, -1.0)]
    g1 = g2 = -1
    if peak >= rate - _TOL and span.top - m >= rate - _TOL:
        g1 = matrix.col(0.0, 0.0, 1.0, binary=True)
        matrix.row([(out, 1.0), (g1, -rate)], 0.0, _INF)
        demand.append((g1, peak))
        picked.append((g1, 1.0))
    if span.lo <= m + _TOL:
        g2 = matrix.col(0.0, 0.0, 1.0, binary=True)
        matrix.row([(span.nxt, 1.0), (g2, span.hi - m)], -_INF, span.hi)
        demand.append((g2, peak))
        picked.append((g2, 1.0))
    matrix.row(demand, const - peak, _INF)
    if len(picked) > 1:
        matrix.row(picked, -_INF, 0.0)
    if span.lo < m - _TOL:  # below min SoC (only before a first charge)
        matrix.row([(span.nxt, 1.0), (n, -(m - span.lo))], span.lo, _INF)
    return n, g1, g2, out


def _battery(site: _Site, b: Battery, matrix: _Matrix, model: Model) -> None:
    low, high = _reach(site, b)
    soc: int | None = None  # None: the SoC is the constant b.soc_kwh
    model.battery = b
    for t in range(site.count):
        if not site.priced[t]:
            model.slots.append(None)
            continue
        nxt = matrix.col(0.0, low[t + 1], high[t + 1])
        span = _Span(t, low[t], high[t], low[t + 1], high[t + 1], nxt)
        f, full, charge = _charge(b, site, span, matrix)
        n, g1, g2, out = _discharge(b, site, span, matrix)
        if f >= 0 and n >= 0:
            matrix.row([(f, 1.0), (n, 1.0)], -_INF, 1.0)
        balance = [(nxt, 1.0)] + ([] if soc is None else [(soc, -1.0)])
        if charge >= 0:
            balance.append((charge, -b.efficiency))
            site.terms[t].append((charge, 1.0))
        if out >= 0:
            balance.append((out, 1.0))
            site.terms[t].append((out, -1.0))
        start = b.soc_kwh if soc is None else 0.0
        matrix.row(balance, start, start)
        model.slots.append(_Slot(f, n, full, g1, g2, charge, out, nxt))
        soc = nxt


def build_model(problem: Problem, *, best_effort: bool) -> Model:
    """Translate ``problem`` into the MILP (see the module docstring)."""
    matrix = _Matrix()
    model = Model(matrix, 0.0, {}, {})
    count = len(problem.slots)
    dt = problem.slot_hours
    const = [kw * dt for kw in problem.base_kw]
    prices = problem.prices
    site = _Site(
        count,
        dt,
        prices,
        problem.priced,
        const,
        list(const),
        [[] for _ in range(count)],
    )
    model.offset = sum(p * c for p, c in zip(prices, const, strict=True))
    battery = None
    for load in problem.loads:
        if isinstance(load, InterruptibleLoad):
            model.on[load.id] = _interruptible(problem, load, matrix, site)
        elif isinstance(load, CycleLoad):
            model.start[load.id] = _cycle(problem, load, matrix, site)
        else:
            battery = load
    if battery is not None:
        _battery(site, battery, matrix, model)
    if problem.import_limit_kw is not None:
        cap = problem.import_limit_kw * dt
        for t, terms in enumerate(site.terms):
            room = cap - const[t]
            if best_effort:
                slack = matrix.col(EXCESS_WEIGHT, 0.0, _INF)
                model.slack.append(slack)
                matrix.row([*terms, (slack, -1.0)], -_INF, room)
            elif terms:
                matrix.row(terms, -_INF, room)
            elif room < -FEASIBILITY_TOLERANCE:
                model.infeasible = True  # the constant demand alone is above it
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
    model: Model, b: Battery, sim: Simulation, dt: float, values: list[float]
) -> None:
    grid = sim.load_kwh[b.id]
    socs = sim.soc_kwh
    rate = b.discharge_kw * dt
    for t, at in enumerate(model.slots):
        if at is None:
            continue
        values[at.soc] = socs[t + 1]
        if grid[t] > 0 and at.f >= 0:
            values[at.f] = 1.0
            values[at.charge] = grid[t]
            if at.full >= 0 and socs[t + 1] >= b.capacity_kwh - 1e-9:
                values[at.full] = 1.0
        elif grid[t] < 0 and at.n >= 0:
            values[at.n] = 1.0
            values[at.out] = -grid[t]
            if at.g1 >= 0 and -grid[t] >= rate - 1e-9:
                values[at.g1] = 1.0
            elif at.g2 >= 0 and socs[t + 1] <= b.min_soc_kwh + 1e-9:
                values[at.g2] = 1.0


def warm_values(model: Model, problem: Problem, decisions: Decisions) -> list[float]:
    """Return every column's value for ``decisions`` (a start for HiGHS)."""
    values = [0.0] * len(model.matrix.cost)
    _warm_loads(model, decisions, values)
    sim = simulate_detail(problem, decisions)
    if model.battery is not None:
        _warm_battery(model, model.battery, sim, problem.slot_hours, values)
    cap = (problem.import_limit_kw or 0.0) * problem.slot_hours
    for t, col in enumerate(model.slack):
        values[col] = max(0.0, sim.net_import_kwh[t] - cap)
    return values


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
    mode: dict[str, tuple[BatteryMode, ...]] = {}
    if model.battery is not None:
        modes: list[BatteryMode] = []
        for cols in model.slots:
            if cols is not None and cols.f >= 0 and values[cols.f] > 0.5:  # noqa: PLR2004
                modes.append(BatteryMode.FORCE_CHARGE)
            elif cols is not None and cols.n >= 0 and values[cols.n] > 0.5:  # noqa: PLR2004
                modes.append(BatteryMode.NORMAL)
            else:
                modes.append(BatteryMode.CHARGE_ONLY)
        mode[model.battery.id] = tuple(modes)
    return Decisions(on=on, start=start, mode=mode)


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


def _run(
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
        values = warm_values(model, problem, start)
        solver.setSolution(n_col, np.arange(n_col, dtype=np.int32), np.array(values))
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
    bound = objective if optimal else float(info.mip_dual_bound)
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
