"""A Lagrangian lower bound on the cost to come, with multipliers from an LP.

**Relaxation.**  Every plan is a point of this LP at its cost: interruptible
loads x[i,t] in [0, 1] with sum_t x[i,t] = count (forced slots at 1), cycle
starts y[c,k] in [0, 1] with sum_k y[c,k] = 1, a battery with charge ch_t in
[0, C_t] and discharge u_t in [0, a], SoC' = SoC + eff*ch_t - u_t kept in
[lo, cap] (lo = min(initial SoC, min SoC)), u_t <= demand_t + X (X = 0 unless
the battery may export: a normal discharge never exceeds the demand, a forced
one demand + export limit); per slot import i, export x, curtailment k with
i - x - k = demand + ch - u - pv (the net), i in [0, max(n_hi, 0)], x in
[0, min(E, max(-n_lo, 0))], k in [0, pv] ([n_lo, n_hi]: the nets a plan can
reach, the top capped by the import limit), i <= demand + ch (import feeds
consumption only), x + k <= u + pv (only PV and discharge leave), at the cost
p i - e x (+ the weighted excess in best effort), and where that cost f_t(net)
(:mod:`.grid`) is not convex on [n_lo, n_hi], cost >= each piece of its
convex envelope.  C_t is the charge rate; in a slot without a price (where
the battery holds) the PV surplus over the base load, with no discharge.

**Lagrangian.**  For any q_t (balance), lambda_t >= 0 (discharge cap), mu_t,
nu_t >= 0 (the two source rows) and rho >= 0 (envelope pieces) every plan
costs at least: per slot the least of a linear function of (i, x, k) over
their boxes (closed form), + each load at q - mu - lambda per kWh (its own
slots, its own starts), + the battery alone with charge price q - mu and
discharge value q + nu - lambda (a convex piecewise-linear function of the
SoC, :func:`.bounds.relaxed_battery_values`), + constants, because every
dualised row is an equality or is signed so its term is <= 0.  The bound
holds for *any* such multipliers, so rounding in the LP cannot make it
invalid; the LP's optimal duals make it equal the LP optimum at the start.
From a DP state (slot t, load progress, SoC) the same separation bounds the
cost still to come.  Without PV and export, x = k = 0 and i = net: the bound
of a house without PV (q = p + the limit's dual).

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
from .grid import SlotCost
from .highs import interrupt_on, new_highs
from .outcome import EXCESS_WEIGHT

if TYPE_CHECKING:
    from .dp import Model

INF = float("inf")
LIMIT_TOLERANCE = 1e-9  # kWh: a net this far above the limit is rounding


@dataclass(frozen=True, slots=True)
class Multipliers:
    """q (energy balance), lambda (discharge <= demand + X), mu, nu per slot.

    ``weighted``: best effort (the excess above the limit is priced, not cut).
    """

    q: tuple[float, ...]
    lam: tuple[float, ...]
    weighted: bool = False
    mu: tuple[float, ...] = ()  # import <= demand + charge
    nu: tuple[float, ...] = ()  # export + curtailment <= discharge + PV
    # per slot (rho, slope, intercept): cost >= slope x net + intercept
    rho: tuple[tuple[tuple[float, float, float], ...], ...] = ()


def plain_multipliers(model: Model, *, best_effort: bool = False) -> Multipliers:
    """Q = the import price, lambda = 0: a bound that needs no LP."""
    zeros = (0.0,) * model.count
    return Multipliers(tuple(model.prices), zeros, best_effort, zeros, zeros)


@dataclass(frozen=True, slots=True)
class Site:
    """Per slot: the most demand, the battery's charge cap, the net's range, f_t."""

    peak: list[float]
    charge: list[float]
    lo: list[float]
    hi: list[float]
    costs: list[SlotCost]
    export_room: float  # X: how far discharge may exceed the demand


def peak_demand(model: Model) -> list[float]:
    """Return each slot's most demand: base, fixed loads, every load that may run."""
    peak = list(model.const)
    for r in model.runners:
        for t in range(model.count):
            peak[t] += r.kwh if r.eligible[t] else 0.0
    for c in model.cycles:
        most = [0.0] * model.count
        for k, ok in enumerate(c.allowed):
            if ok:
                for j, e in enumerate(c.profile):
                    most[k + j] = max(most[k + j], e)
        for t in range(model.count):
            peak[t] += most[t]
    return peak


def site(model: Model, *, best_effort: bool) -> Site:
    """Return the slots' demand, charge and net ranges and costs (a relaxation)."""
    count = model.count
    peak = peak_demand(model)
    pv = model.pv or [0.0] * count
    export = model.export or [0.0] * count
    cap = model.export_cap
    battery = model.battery is not None
    exports = battery and model.exports()
    room = cap if exports else 0.0
    charge: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    costs: list[SlotCost] = []
    limit = INF if model.limit is None else model.limit
    for t in range(count):
        low = model.const[t] - pv[t]  # nothing discharges
        if not battery:
            top, c = peak[t] - pv[t], 0.0
        elif not model.priced[t]:  # holding: PV surplus only (power: nothing)
            c = (
                0.0
                if model.power
                else min(model.charge, max(0.0, pv[t] - model.const[t]))
            )
            top = peak[t] - pv[t] + c
        else:
            c = model.charge
            top = (
                peak[t] - pv[t] + c
                if model.grid_charges()
                else max(peak[t] - pv[t], 0.0)
            )
            floor = min(0.0, low)  # normal discharges the deficit at most
            if model.power:
                floor = max(low - model.discharge, -pv[t] - cap)
            elif exports:
                floor = min(floor, max(low - model.discharge, min(low, -cap)))
            low = floor
        charge.append(c)
        lo.append(low)
        if not best_effort:
            top = min(top, limit)
        hi.append(top)
        costs.append(
            SlotCost(
                price=model.prices[t],
                export_price=export[t],
                export_cap=cap,
                limit=limit if best_effort else INF,
                weight=EXCESS_WEIGHT if best_effort else 0.0,
            )
        )
    return Site(peak, charge, lo, hi, costs, room)


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

    def demand(  # noqa: PLR0917
        self,
        rows: list[int],
        caps: list[int],
        imports: list[int],
        t: int,
        c: int,
        kwh: float,
    ) -> None:
        """Column c adds ``kwh`` to the demand of slot t."""
        self.entry(rows[t], c, -kwh)
        self.entry(imports[t], c, -kwh)
        if caps and caps[t] >= 0:
            self.entry(caps[t], c, -kwh)


def _loads(
    lp: _Lp, model: Model, rows: list[int], caps: list[int], imports: list[int]
) -> None:
    """Load columns: they cost nothing themselves, only through the nets."""
    for r in model.runners:
        total = lp.row(r.count, r.count)
        for t in range(model.count):
            if r.eligible[t]:
                c = lp.col(0.0, 1.0 if r.forced[t] else 0.0, 1.0)
                lp.entry(total, c, 1.0)
                lp.demand(rows, caps, imports, t, c, r.kwh)
    for cy in model.cycles:
        total = lp.row(1.0, 1.0)
        for k in range(model.count):
            if cy.allowed[k]:
                c = lp.col(0.0, 0.0, 1.0)
                lp.entry(total, c, 1.0)
                for j, e in enumerate(cy.profile):
                    if e:
                        lp.demand(rows, caps, imports, k + j, c, e)


def _battery(
    lp: _Lp,
    model: Model,
    where: Site,
    all_rows: tuple[list[int], list[int], list[int], list[int]],
) -> None:
    rows, caps, imports, sources = all_rows
    prev = -1
    for t in range(model.count):
        on = 1.0 if model.priced[t] else 0.0  # unpriced: it holds (no discharge)
        ch = lp.col(0.0, 0.0, where.charge[t])
        out = lp.col(0.0, 0.0, model.discharge * on)
        soc = lp.col(0.0, model.lo, model.cap)
        lp.entry(rows[t], ch, -1.0)
        lp.entry(rows[t], out, 1.0)
        lp.entry(imports[t], ch, -1.0)
        lp.entry(sources[t], out, -1.0)
        if caps and caps[t] >= 0:
            lp.entry(caps[t], out, 1.0)
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


type _Envelope = list[tuple[int, float, float]]  # (row, slope, intercept)


def _grid(
    lp: _Lp, model: Model, where: Site
) -> tuple[list[int], list[int], list[int], list[_Envelope]]:
    """Per slot: import, export and curtailment columns and the rows on them.

    The balance (import - export - curtailment = net), import <= demand +
    charge, export + curtailment <= discharge + PV, and where f_t is not
    convex its envelope's pieces: cost >= slope x net + intercept.
    """
    inf = INF
    pv = model.pv or [0.0] * model.count
    limit = INF if model.limit is None else model.limit
    rows: list[int] = []
    imports: list[int] = []
    sources: list[int] = []
    envelopes: list[_Envelope] = []
    for t in range(model.count):
        cost = where.costs[t]
        row = lp.row(model.const[t] - pv[t], model.const[t] - pv[t])
        rows.append(row)
        into = lp.row(-inf, model.const[t])
        imports.append(into)
        out = lp.row(-inf, pv[t])
        sources.append(out)
        top = max(where.hi[t], 0.0)
        low = min(top, limit)
        columns: list[tuple[int, float, float]] = []  # (column, cost, sign in net)
        for price, width in ((cost.price, low), (cost.price + cost.weight, top - low)):
            if width > 0:
                i = lp.col(price, 0.0, width)
                lp.entry(into, i, 1.0)
                columns.append((i, price, 1.0))
        room = min(cost.export_cap, max(-where.lo[t], 0.0))
        if room > 0:
            x = lp.col(-cost.export_price, 0.0, room)
            lp.entry(out, x, 1.0)
            columns.append((x, -cost.export_price, -1.0))
        if pv[t] > 0:
            k = lp.col(0.0, 0.0, pv[t])
            lp.entry(out, k, 1.0)
            columns.append((k, 0.0, -1.0))
        for c, _, sign in columns:
            lp.entry(row, c, sign)
        pieces: _Envelope = []
        for slope, intercept in cost.lines(where.lo[t], max(where.lo[t], where.hi[t])):
            piece = lp.row(intercept, inf)
            for c, price, sign in columns:
                lp.entry(piece, c, price - slope * sign)
            pieces.append((piece, slope, intercept))
        envelopes.append(pieces)
    return rows, imports, sources, envelopes


def lp_multipliers(
    model: Model, *, best_effort: bool, budget: Budget | None = None
) -> Multipliers | None:
    """Solve the LP relaxation; ``None`` if it is infeasible (so is the problem).

    Every plan is a point of the LP, so an infeasible LP proves the import
    limit cannot be met.  Without highspy, or if HiGHS stops for another
    reason, q is the import price and lambda 0 (a weaker but still valid
    bound).  HiGHS stops at the budget's deadline or memory ceiling
    (:class:`.budget.BudgetExceededError`).
    """
    count = model.count
    plain = plain_multipliers(model, best_effort=best_effort)
    try:
        import highspy  # noqa: PLC0415 - keeps importing the planner cheap
    except ImportError:  # pragma: no cover - highspy is a requirement
        return plain
    budget = budget or Budget.start(INF, INF)
    budget.afford(model_bytes(count, len(model.runners) + len(model.cycles) + 1))
    inf = highspy.kHighsInf
    where = site(model, best_effort=best_effort)
    if any(
        lo > hi + LIMIT_TOLERANCE for lo, hi in zip(where.lo, where.hi, strict=True)
    ):
        return None  # some slot's net cannot stay within the limit
    lp = _Lp()
    rows, imports, sources, envelopes = _grid(lp, model, where)
    caps: list[int] = []
    if model.battery is not None and where.export_room < INF:
        caps = [
            lp.row(-inf, model.const[t] + where.export_room) if model.priced[t] else -1
            for t in range(count)
        ]
    _loads(lp, model, rows, caps, imports)
    if model.battery is not None:
        _battery(lp, model, where, (rows, caps, imports, sources))
    if not lp.cost:  # nothing to choose: the search checks the limit itself
        return plain
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
        return plain  # valid, only weaker
    duals = solver.getSolution().row_dual
    q = tuple(float(duals[r]) for r in rows)
    lam = (
        tuple(0.0 if r < 0 else max(0.0, -float(duals[r])) for r in caps)
        if caps
        else (0.0,) * count
    )
    mu = tuple(max(0.0, -float(duals[r])) for r in imports)
    nu = tuple(max(0.0, -float(duals[r])) for r in sources)
    rho = tuple(
        tuple((max(0.0, float(duals[r])), a, b) for r, a, b in pieces)
        for pieces in envelopes
    )
    return Multipliers(q, lam, best_effort, mu, nu, rho)


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
        where = site(model, best_effort=mult.weighted)
        pv = model.pv or [0.0] * count
        balance = mult.q
        mu = mult.mu or (0.0,) * count
        nu = mult.nu or (0.0,) * count
        q = [balance[t] - mu[t] - mult.lam[t] for t in range(count)]
        self.q = q  # what a kWh of load costs in the bound
        self.const = [0.0] * (count + 1)
        for t in range(count - 1, -1, -1):
            cost = where.costs[t]
            pieces = mult.rho[t] if mult.rho else ()
            share = 1.0 - sum(r for r, _, _ in pieces)  # of the cost itself
            tilt = sum(r * a for r, a, _ in pieces)  # of the net
            extra = sum(r * b for r, _, b in pieces)
            extra += cost.least_split(
                (
                    share * cost.price - balance[t] + mu[t] + tilt,
                    share * (cost.price + cost.weight) - balance[t] + mu[t] + tilt,
                ),
                balance[t] + nu[t] - share * cost.export_price - tilt,
                balance[t] + nu[t] - tilt,
                where.lo[t],
                where.hi[t],
                pv[t],
            )
            extra += q[t] * model.const[t] - (balance[t] + nu[t]) * pv[t]
            if mult.lam[t]:
                extra -= mult.lam[t] * where.export_room
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
        for c in model.cycles:
            best, rest, _ = _cycle_tables(c.profile, c.allowed, q)
            self.cycles.append((len(c.profile), best, rest))
        self.values: list[Convex] = []
        if battery is not None:
            self.values = battery
        elif model.battery is not None:
            self.values = relaxed_battery_values(
                [balance[t] + nu[t] - mult.lam[t] for t in range(count)],
                [
                    peak + where.export_room if on else 0.0
                    for peak, on in zip(where.peak, model.priced, strict=True)
                ],
                capacity=model.cap,
                min_soc=model.lo,
                charge_kwh=where.charge,
                discharge_kwh=model.discharge,
                efficiency=model.eff,
                charge_prices=[balance[t] - mu[t] for t in range(count)],
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
