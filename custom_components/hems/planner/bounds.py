"""Building blocks of the lower bound that prunes the DP (see :mod:`.lpbound`).

``cheapest_sums`` bounds an interruptible load by its cheapest remaining
slots.  ``relaxed_battery_values`` bounds the battery by a relaxation that may
charge and discharge any fraction, with discharge capped by the largest
possible site demand: its value function is convex piecewise linear in the SoC
and is computed backwards by inf-convolution (merging slope segments, then
clipping to the SoC range).
"""

from bisect import bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Convex:
    """A convex piecewise-linear function given by breakpoints and values."""

    xs: tuple[float, ...]
    values: tuple[float, ...]

    def __call__(self, x: float) -> float:
        """Value at x, linear beyond the ends (only used inside the domain)."""
        xs, vs = self.xs, self.values
        if len(xs) == 1:
            return vs[0]
        i = min(max(bisect_right(xs, x) - 1, 0), len(xs) - 2)
        x0, x1 = xs[i], xs[i + 1]
        if x1 == x0:
            return vs[i]
        return vs[i] + (vs[i + 1] - vs[i]) * (x - x0) / (x1 - x0)


type _Segments = list[tuple[float, float]]  # (length, slope), slopes ascending


def _clip(
    start: float, value: float, segments: _Segments, lo: float, hi: float
) -> tuple[float, _Segments]:
    """Restrict a function starting at ``start`` <= lo to [lo, hi].

    Returns its value at lo and its segments from there.
    """
    x, v = start, value
    kept: _Segments = []
    for length, slope in segments:
        a, b = x, x + length
        x = b
        if b <= lo:
            v += length * slope
            continue
        if a < lo:
            v += (lo - a) * slope
            a = lo
        if a >= hi:
            break
        end = min(b, hi)
        if end > a:
            kept.append((end - a, slope))
    return v, kept


def _convex(lo: float, value: float, segments: _Segments) -> Convex:
    xs = [lo]
    vs = [value]
    for length, slope in segments:
        xs.append(xs[-1] + length)
        vs.append(vs[-1] + length * slope)
    return Convex(tuple(xs), tuple(vs))


def relaxed_battery_values(
    prices: list[float],
    peak_kwh: list[float],
    *,
    capacity: float,
    min_soc: float,
    charge_kwh: float | Sequence[float],
    discharge_kwh: float,
    efficiency: float,
    charge_prices: list[float] | None = None,
    held: list[bool] | None = None,
) -> list[Convex]:
    """V[t](soc): least battery cost (p) from slot t on, relaxed; V[T] = 0.

    A discharge of y kWh in slot t earns ``prices[t]`` * y, at most
    min(``discharge_kwh``, ``peak_kwh[t]``); a charge costs ``charge_prices[t]``
    (default ``prices[t]``) per kWh drawn, at most ``charge_kwh`` (or its t-th
    entry, per slot); in a ``held`` slot the battery only charges (up to that
    slot's charge, e.g. the PV surplus an unpriced slot stores).  Where earning exceeds
    the cost of charging (negative prices), the slot's cost is replaced by its
    convex envelope, which only lowers the bound.
    """
    count = len(prices)
    buy = prices if charge_prices is None else charge_prices
    values: list[Convex] = [Convex((min_soc, capacity), (0.0, 0.0))]
    segs: _Segments = [(capacity - min_soc, 0.0)] if capacity > min_soc else []
    value = 0.0
    charges = (
        [float(charge_kwh)] * count
        if isinstance(charge_kwh, (int, float))
        else list(charge_kwh)
    )
    for t in range(count - 1, -1, -1):
        c = efficiency * charges[t]
        is_held = held is not None and held[t]
        if is_held and c <= 0:
            values.append(values[-1])
            continue
        p = prices[t]
        d = 0.0 if is_held else min(discharge_kwh, peak_kwh[t])
        # g(y): cost of changing the SoC by y in slot t; y in [-d, c]; convex.
        g = sorted([(d, p), (c, buy[t] / efficiency)], key=lambda s: s[1])
        g_end = -p * d + sum(length * slope for length, slope in g)
        # V_t(s) = min_u g(u - s) + V_{t+1}(u) = (g(-.) inf-conv V_{t+1})(s):
        # it starts at min_soc - c with the value V_{t+1}(min_soc) + g(c), and
        # its slopes are those of V_{t+1} and of g(-.), in ascending order.
        merged = sorted(
            [*segs, *((length, -slope) for length, slope in g if length > 0)],
            key=lambda s: s[1],
        )
        value, segs = _clip(min_soc - c, value + g_end, merged, min_soc, capacity)
        values.append(_convex(min_soc, value, segs))
    values.reverse()
    return values


def cheapest_sums(
    prices: list[float], eligible: list[bool], most: int
) -> list[list[float]]:
    """table[t][r]: the sum of the r cheapest eligible prices in [t, T)."""
    count = len(prices)
    inf = float("inf")
    table: list[list[float]] = [[0.0] + [inf] * most for _ in range(count + 1)]
    pool: list[float] = []
    for t in range(count - 1, -1, -1):
        if eligible[t]:
            insort(pool, prices[t])
        row = table[t]
        total = 0.0
        for r, price in enumerate(pool[:most], start=1):
            total += price
            row[r] = total
    return table
