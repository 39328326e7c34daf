"""The MILP's grid columns: export x, curtailment k, and the import limit.

Per slot, import i = net + x + k (net = demand + charge - discharge - PV),
x in [0, E], k >= 0, i >= 0; the objective p i - e x = p net + (p - e) x + p k.
For a given net the simulator's split (i, x, k) = (net+, min(net-, E), the
rest) is feasible; it is also the cheapest split, so the optimum is the
simulated cost, when p >= e, p >= 0 and e >= 0: x + k >= -net, x costs
p - e <= p, k costs p, both >= 0.  Elsewhere binaries remove the splits that
could pay, created only where they can:

* e > p (import and export at once would pay): a direction u,
  i <= I u and x <= X (1 - u);
* p < 0 or e < 0 with a curtailment possible (import more, or export less,
  by curtailing PV): z, k <= K z, x >= E z and i <= I (1 - z); then z = 1 is
  exactly the split of net <= -E and z = 0 has k = 0.

With both, each binary setting leaves one split.  With z alone (e <= p):
z = 0 leaves i - x = net where x costs p - e >= 0, so x is least, the
simulator's.  With u alone (p, e >= 0): u = 0 is the simulator's split of a
net <= 0, u = 1 has x = 0 and costs p i >= p net+, never less than the
simulator's split.  Without a curtailment column (no export limit, or the slot
cannot push out more than E) only x can move, at p - e.  A slot whose net
cannot be negative has neither x nor k (i = net).  The import limit is i <= limit (in
best effort i - slack <= limit, the slack priced at ``EXCESS_WEIGHT``).  A slot's
minimum m and own cap M are net + miss >= m and net - miss <= M, the miss priced
at ``TARGET_WEIGHT``: on the net, not on i - x, so no split pays for it.
"""

from dataclasses import dataclass, field

from .milp_matrix import INF, TOL, Expr, Matrix, var
from .milp_site import Site
from .outcome import EXCESS_WEIGHT, TARGET_WEIGHT


@dataclass
class Grid:
    """The grid columns of every slot (-1: none) and whether the limit fails."""

    export: list[int] = field(default_factory=list)
    curtail: list[int] = field(default_factory=list)
    slack: list[int] = field(default_factory=list)
    infeasible: bool = False  # some slot's constant import is above the limit


def _split(site: Site, t: int, matrix: Matrix) -> tuple[int, int, Expr]:
    """Add slot t's export and curtailment; return them and the import."""
    p, e = site.prices[t], site.export_prices[t]
    cap = site.export_cap
    most_out = -site.lowest_net[t]  # the most the slot can push out
    most_in = max(0.0, site.highest_net[t])
    x = (
        matrix.col(p - e, 0.0, min(cap, most_out))
        if most_out > TOL and cap > TOL
        else -1
    )
    k = matrix.col(p, 0.0, most_out - cap) if most_out > cap + TOL else -1
    imp = site.net(t)
    imp += var(x) if x >= 0 else Expr()
    imp += var(k) if k >= 0 else Expr()
    if x < 0 and k < 0:
        return x, k, imp
    matrix.constrain(imp, lower=0.0)
    u = z = -1
    if x >= 0 and e > p:
        u = matrix.col(0.0, 0.0, 1.0, binary=True)
        matrix.constrain(imp - var(u, most_in), upper=0.0)
        matrix.constrain(var(x) + var(u, matrix.upper[x]), upper=matrix.upper[x])
    if k >= 0 and (p < 0 or e < 0):
        z = matrix.col(0.0, 0.0, 1.0, binary=True)
        matrix.constrain(var(k) - var(z, matrix.upper[k]), upper=0.0)
        if x >= 0:
            matrix.constrain(var(x) - var(z, cap), lower=0.0)
        matrix.constrain(imp + var(z, most_in), upper=most_in)
    net = site.net(t)

    def fill(values: list[float]) -> None:
        now = net.value(values)
        out = min(max(-now, 0.0), cap) if x >= 0 else 0.0
        spill = max(-now, 0.0) - out
        if x >= 0:
            values[x] = out
        if k >= 0:
            values[k] = spill
        if u >= 0:
            values[u] = 1.0 if now > 0 else 0.0
        if z >= 0:
            values[z] = 1.0 if spill > 0 else 0.0

    matrix.fills.append(fill)
    return x, k, imp


def grid(
    site: Site,
    matrix: Matrix,
    limit_kwh: float | None,
    targets: tuple[list[float] | None, list[float] | None] = (None, None),
    *,
    best_effort: bool,
) -> Grid:
    """Add every slot's grid columns, the import limit rows and the target rows.

    ``targets``: each slot's minimum and own cap of the net, kWh (or None).
    """
    floors_kwh, ceilings_kwh = targets
    out = Grid()
    for t in range(site.count):
        x, k, imp = _split(site, t, matrix)
        out.export.append(x)
        out.curtail.append(k)
        if floors_kwh is not None and floors_kwh[t] > -INF:
            _target(site, matrix, t, floors_kwh[t], above=False)
        if ceilings_kwh is not None and ceilings_kwh[t] < INF:
            _target(site, matrix, t, ceilings_kwh[t], above=True)
        if limit_kwh is None:
            continue
        if best_effort:
            slack = matrix.col(EXCESS_WEIGHT, 0.0, INF)
            out.slack.append(slack)
            matrix.constrain(imp - var(slack), upper=limit_kwh)
            _fill_slack(matrix, slack, imp, limit_kwh)
        elif imp.terms:
            matrix.constrain(imp, upper=limit_kwh)
        elif imp.const > limit_kwh + 1e-9:
            out.infeasible = True  # the constant demand alone is above it
    return out


def _target(site: Site, matrix: Matrix, t: int, kwh: float, *, above: bool) -> None:
    """Net - miss <= cap (``above``) or net + miss >= minimum, the miss priced."""
    miss = matrix.col(TARGET_WEIGHT, 0.0, INF)
    net = site.net(t)
    if above:
        matrix.constrain(net - var(miss), upper=kwh)
    else:
        matrix.constrain(net + var(miss), lower=kwh)

    def fill(values: list[float]) -> None:
        now = net.value(values)
        values[miss] = max(0.0, now - kwh if above else kwh - now)

    matrix.fills.append(fill)


def _fill_slack(matrix: Matrix, slack: int, imp: Expr, limit: float) -> None:
    def fill(values: list[float]) -> None:
        values[slack] = max(0.0, imp.value(values) - limit)

    matrix.fills.append(fill)
