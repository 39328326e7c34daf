"""The battery's MILP columns: mode selectors and flows, or power setpoints.

Mode control, per priced slot: a binary per mode that can differ from
charge_only (charge_only is 1 minus the others).  The simulator's flows are
:func:`.milp_matrix.clamped_min` columns, exact by construction:

* force charge: cf = min(C h, room) when f;
* PV charge: cp = max(0, min(surplus, C h, room)) when normal or charge_only
  (also in an unpriced slot, where the battery holds);
* normal discharge: dn = max(0, min(-surplus, D h, SoC - min SoC)) when n;
* force discharge: dq = max(0, min(D h, SoC - min SoC, E - surplus)) when q;
  with both, one column max(0, min(-surplus + E q, D h, SoC - min SoC)) when
  n + q (without an export limit E is a constant making the term >= D h).

At most one is non-zero (the modes exclude each other; normal charges only
with a surplus and discharges only without), so the SoC after the slot is
SoC + eff (cf + cp) - dn - dq within [min SoC, capacity] and room = (capacity
- SoC) / eff.  A mode that can do nothing in a slot gets no binary when it is
then the same as charge_only.

Power control, per priced slot: charge c in [0, C h] and discharge d in
[0, D h], d <= demand + E, the SoC within [min SoC, capacity]; every such
(c, d) with c d = 0 is the setpoint (c - d) / h.  A direction binary keeps
c d = 0 only where both at once could pay: with efficiency < 1 and a negative
import or export price in the slot.  Elsewhere a point with both stores
D = eff c - d; the pure action storing the same (charge D / eff, or discharge
-D) is within the rates and limits and has a net import no higher (c - d >=
D / eff and >= D), and with prices >= 0 a slot's cost never rises as its net
import falls.  So the optimum is unchanged, and the setpoint read from a point
is that pure action: its simulated cost is at most the point's objective.
"""

from dataclasses import dataclass, field

from .milp_matrix import TOL, Bounded, Expr, Matrix, clamped_min, const, constant, var
from .milp_site import Site
from .models import Battery, BatteryMode

_INF = float("inf")


@dataclass(frozen=True, slots=True)
class BatterySlot:
    """The battery's columns in one slot (-1: none)."""

    modes: dict[BatteryMode, int] = field(default_factory=dict)  # but charge_only
    charge: tuple[int, ...] = ()
    out: tuple[int, ...] = ()
    direction: int = -1  # power: 1 charging, 0 discharging
    soc: int = -1  # the SoC after the slot (-1: unchanged)


def _reach(
    b: Battery, site: Site, charges: list[bool], drain: list[float]
) -> tuple[list[float], list[float]]:
    """Return the lowest and highest SoC possible at each slot boundary."""
    rate_in = b.charge_kw * site.dt * b.efficiency
    low, high = [b.soc_kwh], [b.soc_kwh]
    m = b.min_soc_kwh
    for t in range(site.count):
        lo, hi = low[-1], high[-1]
        if charges[t]:
            hi = min(b.capacity_kwh, hi + rate_in)
        if lo > m:
            lo = max(m, lo - drain[t])
        low.append(lo)
        high.append(hi)
    return low, high


def _soc_after(
    matrix: Matrix,
    b: Battery,
    soc: Expr,
    flows: tuple[list[int], list[int]],
    bounds: tuple[float, float],
) -> int:
    """Add the SoC column after a slot: SoC + eff x charge - discharge."""
    charge, out = flows
    nxt = matrix.col(0.0, *bounds)
    balance = var(nxt) - soc
    for c in charge:
        balance -= var(c, b.efficiency)
    for d in out:
        balance += var(d)
    matrix.constrain(balance, 0.0, 0.0)

    def fill(values: list[float]) -> None:
        values[nxt] = (
            soc.value(values)
            + b.efficiency * sum(values[c] for c in charge)
            - sum(values[d] for d in out)
        )

    matrix.fills.append(fill)
    return nxt


@dataclass(frozen=True, slots=True)
class _Terms:
    """The battery's bounded quantities in slot t."""

    room: Bounded
    avail: Bounded
    rate_in: Bounded
    rate_out: Bounded


def _terms(b: Battery, site: Site, soc: Expr, lo: float, hi: float) -> _Terms:
    eff, cap, m = b.efficiency, b.capacity_kwh, b.min_soc_kwh
    room = soc.scaled(-1.0 / eff) + const(cap / eff)
    return _Terms(  # one flow per slot: the SoC bounds keep it within both
        Bounded(room, (cap - hi) / eff, (cap - lo) / eff, implied=True),
        Bounded(soc - const(m), lo - m, hi - m, implied=True),
        constant(b.charge_kw * site.dt),
        constant(b.discharge_kw * site.dt),
    )


def _top(*terms: Bounded) -> float:
    return min(t.hi for t in terms)


def _mode_slot(
    b: Battery, site: Site, t: int, k: _Terms, matrix: Matrix
) -> tuple[dict[BatteryMode, int], list[int], list[int]]:
    """Mode binaries and flow columns of a priced slot."""
    s = site.surplus(t)
    lack = Bounded(s.expr.scaled(-1.0), -s.hi, -s.lo)
    room, avail = k.room, k.avail
    tail = []
    if site.export_cap < _INF:
        cap = const(site.export_cap)
        tail = [Bounded(cap - s.expr, site.export_cap - s.hi, site.export_cap - s.lo)]
    dq_terms = [k.rate_out, avail, *tail]
    can_cp = _top(s, k.rate_in, room) > TOL
    can = {
        BatteryMode.FORCE_CHARGE: _top(k.rate_in, room) > TOL or can_cp,
        BatteryMode.NORMAL: _top(lack, k.rate_out, avail) > TOL,
        BatteryMode.FORCE_DISCHARGE: _top(*dq_terms) > TOL or can_cp,
    }
    modes = {
        mode: matrix.col(0.0, 0.0, 1.0, binary=True)
        for mode in b.modes
        if can.get(mode, False)
    }
    if len(modes) > 1:
        matrix.constrain(Expr(tuple((c, 1.0) for c in modes.values())), upper=1.0)
    pick = {mode: var(col) for mode, col in modes.items()}
    hold = const(1.0) - Expr(tuple((c, 1.0) for c in modes.values()))
    charge, out = [], []
    if BatteryMode.FORCE_CHARGE in pick:
        charge.append(
            clamped_min(matrix, pick[BatteryMode.FORCE_CHARGE], [k.rate_in, room])
        )
    normal = pick.get(BatteryMode.NORMAL)
    charge.append(
        clamped_min(
            matrix, hold if normal is None else hold + normal, [s, k.rate_in, room]
        )
    )
    force = pick.get(BatteryMode.FORCE_DISCHARGE)
    if normal is not None and force is not None:  # one flow: -S + (E or M) q
        lift = site.export_cap if tail else k.rate_out.hi + max(0.0, s.hi)
        reach = Bounded(lack.expr + force.scaled(lift), lack.lo, lack.hi + lift)
        out.append(clamped_min(matrix, normal + force, [reach, k.rate_out, avail]))
    elif normal is not None:
        out.append(clamped_min(matrix, normal, [lack, k.rate_out, avail]))
    elif force is not None:
        out.append(clamped_min(matrix, force, dq_terms))
    return modes, [c for c in charge if c >= 0], [d for d in out if d >= 0]


def _lowest_net_modes(b: Battery, site: Site, t: int, avail_hi: float) -> float:
    """Return the lowest net import of slot t in any mode."""
    base = site.const[t] - site.pv[t]
    if not site.priced[t]:
        return base
    low = base
    if BatteryMode.NORMAL in b.modes:
        low = min(low, 0.0)
    if BatteryMode.FORCE_DISCHARGE in b.modes:
        rate = min(b.discharge_kw * site.dt, max(0.0, avail_hi))
        low = min(low, max(base - rate, -site.export_cap))
    return low


def mode_battery(b: Battery, site: Site, matrix: Matrix) -> list[BatterySlot]:
    """Add a mode-controlled battery; return its columns per slot."""
    rate_out = b.discharge_kw * site.dt
    charges = [
        site.pv[t] > site.const[t]
        or (site.priced[t] and BatteryMode.FORCE_CHARGE in b.modes)
        for t in range(site.count)
    ]
    drain = [
        0.0
        if not site.priced[t]
        else rate_out
        if BatteryMode.FORCE_DISCHARGE in b.modes
        else min(rate_out, max(0.0, site.peak[t] - site.pv[t]))
        if BatteryMode.NORMAL in b.modes
        else 0.0
        for t in range(site.count)
    ]
    low, high = _reach(b, site, charges, drain)
    soc = const(b.soc_kwh)
    slots: list[BatterySlot] = []
    for t in range(site.count):
        k = _terms(b, site, soc, low[t], high[t])
        modes: dict[BatteryMode, int] = {}
        if site.priced[t]:
            modes, charge, out = _mode_slot(b, site, t, k, matrix)
        else:
            cp = clamped_min(matrix, const(1.0), [site.surplus(t), k.rate_in, k.room])
            charge, out = ([cp] if cp >= 0 else []), []
        price = site.prices[t]
        for c in charge:
            matrix.cost[c] = price
        for d in out:
            matrix.cost[d] = -price
        site.battery[t] = [(c, 1.0) for c in charge] + [(d, -1.0) for d in out]
        site.lowest_net[t] = _lowest_net_modes(b, site, t, high[t] - b.min_soc_kwh)
        site.highest_net[t] += sum(matrix.upper[c] for c in charge)
        nxt = -1
        if charge or out:
            nxt = _soc_after(matrix, b, soc, (charge, out), (low[t + 1], high[t + 1]))
            soc = var(nxt)
        slots.append(
            BatterySlot(modes=modes, charge=tuple(charge), out=tuple(out), soc=nxt)
        )
    return slots


def _needs_direction(b: Battery, site: Site) -> list[bool]:
    """Whether c and d at once could pay in each slot (see the module docstring)."""
    lossy = b.efficiency < 1.0 - TOL
    return [
        lossy and site.priced[t] and min(site.prices[t], site.export_prices[t]) < 0
        for t in range(site.count)
    ]


def power_battery(b: Battery, site: Site, matrix: Matrix) -> list[BatterySlot]:
    """Add a power-controlled battery; return its columns per slot."""
    dt, eff, m = site.dt, b.efficiency, b.min_soc_kwh
    drain = [
        min(b.discharge_kw * dt, site.peak[t] + site.export_cap)
        if site.priced[t]
        else 0.0
        for t in range(site.count)
    ]
    low, high = _reach(b, site, list(site.priced), drain)
    needs = _needs_direction(b, site)
    soc = const(b.soc_kwh)
    slots: list[BatterySlot] = []
    for t in range(site.count):
        if not site.priced[t]:
            slots.append(BatterySlot())
            continue
        price = site.prices[t]
        c_top = min(b.charge_kw * dt, (b.capacity_kwh - low[t]) / eff)
        d_top = min(drain[t], high[t] - m)
        c = matrix.col(price, 0.0, c_top) if c_top > TOL else -1
        d = matrix.col(-price, 0.0, d_top) if d_top > TOL else -1
        direction = -1
        if c >= 0 and d >= 0 and needs[t]:
            direction = matrix.col(0.0, 0.0, 1.0, binary=True)
            matrix.constrain(var(c) - var(direction, c_top), upper=0.0)
            matrix.constrain(var(d) + var(direction, d_top), upper=d_top)
        cap = site.export_cap
        if d >= 0 and d_top > site.const[t] + cap + TOL:
            room = site.demand(t).expr + const(cap)
            matrix.constrain(var(d) - room, upper=0.0)
        charge = [c] if c >= 0 else []
        out = [d] if d >= 0 else []
        site.battery[t] = [(c, 1.0) for c in charge] + [(d, -1.0) for d in out]
        base = site.const[t] - site.pv[t]
        site.lowest_net[t] = max(base - max(d_top, 0.0), -site.pv[t] - cap)
        site.highest_net[t] += max(c_top, 0.0)
        nxt = -1
        if charge or out:
            nxt = _soc_after(matrix, b, soc, (charge, out), (low[t + 1], high[t + 1]))
            soc = var(nxt)
        slots.append(
            BatterySlot(
                charge=tuple(charge), out=tuple(out), direction=direction, soc=nxt
            )
        )
    return slots
