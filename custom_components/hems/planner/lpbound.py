"""A Lagrangian lower bound on the cost to come, with multipliers from an LP.

**Relaxation.**  Every plan is a point of this LP: interruptible loads
x[i,t] in [0, 1] with sum_t x[i,t] = count (forced slots at 1), cycle starts
y[c,k] in [0, 1] with sum_k y[c,k] = 1, and a battery with grid charge
ch_t in [0, c] and discharge u_t in [0, a], SoC' = SoC + eff*ch_t - u_t kept in
[lo, cap] (lo = min(initial SoC, min SoC)), u_t <= demand_t (base + loads) and
net_t = demand_t + ch_t - u_t <= limit (or, in best effort, the excess priced
at ``EXCESS_WEIGHT``).  The simulator's battery is a special case: force
charge draws ch <= c, normal discharges u = min(a, SoC - min SoC, demand).

**Lagrangian.**  For any lambda_t >= 0 (on u_t <= demand_t) and
0 <= mu_t (<= the excess weight in best effort; on net_t <= limit) every plan
costs at least

    sum_t q_t*demand_t + sum_t [(p_t + mu_t)*ch_t - q_t*u_t] - sum_t mu_t*limit,
    q_t = p_t - lambda_t + mu_t,

because the added terms lambda*(u - demand) and mu*(net - limit) are <= 0.
This separates: each load at its cheapest under the prices q (its own slots,
its own starts), the battery alone with charge price p + mu and discharge
value q (a convex piecewise-linear function of the SoC,
:func:`.bounds.relaxed_battery_values`), and constants.  The bound holds for
*any* multipliers in range, so rounding in the LP cannot make it invalid; the
LP's optimal duals make it equal the LP optimum at the start.  From a DP state
(slot t, load progress, SoC) the same separation bounds the cost still to come.

**Fixing.**  Forcing one more slot u into an interruptible load raises its
part of the bound by kwh*(q_u - theta) (theta: the count-th cheapest q); a
cycle start k by its q-cost above the cheapest.  If the bound then exceeds the
cost of a known plan, no optimal plan uses that slot or start, so it is
dropped; symmetrically a slot whose removal does that is forced on.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .bounds import Convex, cheapest_sums, relaxed_battery_values
from .budget import Budget, model_bytes
from .highs import interrupt_on, new_highs
from .outcome import EXCESS_WEIGHT

if TYPE_CHECKING:
    from .dp import Model

INF = float("inf")


@dataclass(frozen=True, slots=True)
class Multipliers:
    """lambda (discharge <= demand) and mu (import limit) per slot."""

    lam: tuple[float, ...]
    mu: tuple[float, ...]


class _Lp:
    """Columns, rows and entries of the LP, handed to HiGHS in one go."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.col_lo: list[float] = []
        self.col_hi: list[float] = []
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []

    def col(self, cost: float, lo: float, hi: float) -> int:
        self.cost.append(cost)
        self.col_lo.append(lo)
        self.col_hi.append(hi)
        return len(self.cost) - 1

    def row(self, lo: float, hi: float) -> int:
        self.row_lo.append(lo)
        self.row_hi.append(hi)
        return len(self.row_lo) - 1

    def entry(self, row: int, col: int, value: float) -> None:
        self.rows.append(row)
        self.cols.append(col)
        self.vals.append(value)

    def demand(
        self, demand_rows: list[int], limit_rows: list[int], t: int, c: int, kwh: float
    ) -> None:
        """Column c adds ``kwh`` to the demand of slot t."""
        self.entry(demand_rows[t], c, -kwh)
        if limit_rows:
            self.entry(limit_rows[t], c, kwh)


def _loads(
    lp: _Lp, model: Model, demand_rows: list[int], limit_rows: list[int]
) -> None:
    prices = model.prices
    for r in model.runners:
        total = lp.row(r.count, r.count)
        for t in range(model.count):
            if r.eligible[t]:
                c = lp.col(prices[t] * r.kwh, 1.0 if r.forced[t] else 0.0, 1.0)
                lp.entry(total, c, 1.0)
                lp.demand(demand_rows, limit_rows, t, c, r.kwh)
    for cy in model.cycles:
        total = lp.row(1.0, 1.0)
        for k in range(model.count):
            if cy.allowed[k]:
                cost = sum(e * prices[k + j] for j, e in enumerate(cy.profile))
                c = lp.col(cost, 0.0, 1.0)
                lp.entry(total, c, 1.0)
                for j, e in enumerate(cy.profile):
                    if e:
                        lp.demand(demand_rows, limit_rows, k + j, c, e)


def _battery(
    lp: _Lp, model: Model, demand_rows: list[int], limit_rows: list[int]
) -> None:
    prev = -1
    for t in range(model.count):
        on = 1.0 if model.priced[t] else 0.0  # unpriced: the battery holds
        ch = lp.col(model.prices[t], 0.0, model.charge * on)
        out = lp.col(-model.prices[t], 0.0, model.discharge * on)
        soc = lp.col(0.0, model.lo, model.cap)
        lp.entry(demand_rows[t], out, 1.0)
        if limit_rows:
            lp.entry(limit_rows[t], ch, 1.0)
            lp.entry(limit_rows[t], out, -1.0)
        rhs = model.soc0 if prev < 0 else 0.0
        balance = lp.row(rhs, rhs)
        lp.entry(balance, soc, 1.0)
        lp.entry(balance, ch, -model.eff)
        lp.entry(balance, out, 1.0)
        if prev >= 0:
            lp.entry(balance, prev, -1.0)
        prev = soc


def _highs_lp(lp: _Lp) -> Any:
    """Hand the collected columns and rows to a HiGHS LP (column-wise)."""
    import highspy  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    highs_lp: Any = highspy.HighsLp()
    highs_lp.num_col_ = len(lp.cost)
    highs_lp.num_row_ = len(lp.row_lo)
    highs_lp.col_cost_ = np.array(lp.cost)
    highs_lp.col_lower_ = np.array(lp.col_lo)
    highs_lp.col_upper_ = np.array(lp.col_hi)
    highs_lp.row_lower_ = np.array(lp.row_lo)
    highs_lp.row_upper_ = np.array(lp.row_hi)
    cols = np.array(lp.cols, dtype=np.int64)
    order = np.lexsort((np.array(lp.rows), cols))
    starts = np.zeros(len(lp.cost) + 1, dtype=np.int64)
    np.add.at(starts, cols + 1, 1)
    highs_lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    highs_lp.a_matrix_.start_ = np.cumsum(starts).astype(np.int32)
    highs_lp.a_matrix_.index_ = np.array(lp.rows, dtype=np.int32)[order]
    highs_lp.a_matrix_.value_ = np.array(lp.vals)[order]
    return highs_lp


def lp_multipliers(
    model: Model, *, best_effort: bool, budget: Budget | None = None
) -> Multipliers | None:
    """Solve the LP relaxation; ``None`` if it is infeasible (so is the problem).

    Every plan is a point of the LP, so an infeasible LP proves the import
    limit cannot be met.  Without highspy, or if HiGHS stops for another
    reason, the multipliers are 0 (a weaker but still valid bound).  HiGHS
    stops at the budget's deadline or memory ceiling
    (:class:`.budget.BudgetExceededError`).
    """
    count = model.count
    try:
        import highspy  # noqa: PLC0415 - keeps importing the planner cheap
    except ImportError:  # pragma: no cover - highspy is a requirement
        return Multipliers((0.0,) * count, (0.0,) * count)
    budget = budget or Budget.start(INF, INF)
    budget.afford(model_bytes(count, len(model.runners) + len(model.cycles) + 1))
    inf = highspy.kHighsInf
    lp = _Lp()
    limit = model.limit
    demand_rows = [lp.row(-inf, model.const[t]) for t in range(count)]
    limit_rows = (
        [lp.row(-inf, limit - model.const[t]) for t in range(count)]
        if limit is not None
        else []
    )
    _loads(lp, model, demand_rows, limit_rows)
    if model.battery is not None:
        _battery(lp, model, demand_rows, limit_rows)
    if best_effort:
        for r in limit_rows:
            lp.entry(r, lp.col(EXCESS_WEIGHT, 0.0, inf), -1.0)
    if not lp.cost:  # nothing to choose: the search checks the limit itself
        return Multipliers((0.0,) * count, (0.0,) * count)
    highs_lp = _highs_lp(lp)
    solver = new_highs()
    interrupt_on(solver, budget)
    solver.passModel(highs_lp)
    solver.run()
    budget.check()
    status = solver.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - defensive
        return Multipliers((0.0,) * count, (0.0,) * count)  # valid, only weaker
    duals = solver.getSolution().row_dual
    top = EXCESS_WEIGHT if best_effort else INF
    lam = tuple(max(0.0, -float(duals[r])) for r in demand_rows)
    mu = (
        tuple(min(top, max(0.0, -float(duals[r]))) for r in limit_rows)
        if limit_rows
        else (0.0,) * count
    )
    return Multipliers(lam, mu)


def _cycle_tables(
    profile: tuple[float, ...], allowed: tuple[bool, ...], q: list[float]
) -> tuple[list[float], list[list[float]], list[float]]:
    """Return a cycle's tables under the prices q.

    best[k]: the cheapest allowed start >= k; rest[k][ph]: phases ph.. of a
    cycle started at k; most[t]: the most the cycle can draw in slot t.
    """
    count = len(q)
    length = len(profile)
    rest = [[0.0] * (length + 1) for _ in range(count)]
    best = [INF] * (count + 1)
    most = [0.0] * count
    for k in range(count - 1, -1, -1):
        best[k] = best[k + 1]
        if k + length > count:
            continue
        for ph in range(length - 1, -1, -1):
            rest[k][ph] = rest[k][ph + 1] + profile[ph] * q[k + ph]
        if allowed[k]:
            best[k] = min(best[k], rest[k][0])
            for j, e in enumerate(profile):
                most[k + j] = max(most[k + j], e)
    return best, rest, most


class Bound:
    """The Lagrangian bound of a model for fixed multipliers."""

    def __init__(
        self, model: Model, mult: Multipliers, battery: list[Convex] | None = None
    ) -> None:
        """Build the tables for ``model``.

        ``battery`` reuses the battery part of the bound of a model whose
        possible demand is at least this one's (the battery bound only grows
        as the discharge caps shrink).
        """
        count = model.count
        prices = model.prices
        q = [prices[t] - mult.lam[t] + mult.mu[t] for t in range(count)]
        self.q = q
        self.const = [0.0] * (count + 1)
        for t in range(count - 1, -1, -1):
            extra = q[t] * model.const[t]
            if model.limit is not None:
                extra -= mult.mu[t] * model.limit
            self.const[t] = self.const[t + 1] + extra
        self.runners = [
            (
                r.count,
                r.kwh,
                cheapest_sums([v * r.kwh for v in q], list(r.eligible), r.count),
            )
            for r in model.runners
        ]
        self.cycles: list[tuple[int, list[float], list[list[float]]]] = []
        peak = [
            c if on else 0.0 for c, on in zip(model.const, model.priced, strict=True)
        ]
        for r in model.runners:
            for t in range(count):
                peak[t] += r.kwh if r.eligible[t] else 0.0
        for c in model.cycles:
            best, rest, most = _cycle_tables(c.profile, c.allowed, q)
            self.cycles.append((len(c.profile), best, rest))
            for t in range(count):
                peak[t] += most[t]
        self.values: list[Convex] = []
        if battery is not None:
            self.values = battery
        elif model.battery is not None:
            self.values = relaxed_battery_values(
                q,
                peak,
                capacity=model.cap,
                min_soc=model.lo,
                charge_kwh=model.charge,
                discharge_kwh=model.discharge,
                efficiency=model.eff,
                charge_prices=[prices[t] + mult.mu[t] for t in range(count)],
                held=[not on for on in model.priced],
            )
        self._keys: dict[tuple[int, ...], float] = {}  # slot self._t's keys
        self._t = -1

    def loads(self, t: int, key: Sequence[int]) -> float:
        """Bound the constant demand and the loads from slot t on."""
        if t != self._t:  # the search asks slot by slot: keep one slot's keys
            self._keys.clear()
            self._t = t
        k = tuple(key)
        cached = self._keys.get(k)
        if cached is not None:
            return cached
        total = self.const[t]
        n = len(self.runners)
        for i, (count, _, table) in enumerate(self.runners):
            total += table[t][count - key[i]]
        for j, (length, best, rest) in enumerate(self.cycles):
            phase = key[n + j]
            if phase == 0:
                total += best[t]
            elif phase < length:
                total += rest[t - phase][phase]
        self._keys[k] = total
        return total

    def battery(self, t: int, soc: float) -> float:
        """Bound the battery's part from slot t on."""
        if not self.values:
            return 0.0
        return self.values[t](soc)
