"""Lower bounds on the cost still to come, used to prune the DP.

A bound is valid if it never exceeds the true cost of any completion.  The
cost splits into base load + loads + battery, each bounded on its own: loads by
their cheapest remaining slots (ignoring the limit and the battery), the
battery by a relaxation that may charge and discharge any fraction, with
discharge capped by the largest possible site demand.  The relaxed battery's
value function is convex piecewise linear in the SoC and is computed backwards
by inf-convolution (merging slope segments).
"""

from bisect import bisect_right
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


def _from_segments(
    start: float, value: float, segments: _Segments, lo: float, hi: float
) -> Convex:
    """Breakpoints of the function restricted to [lo, hi]."""
    xs = [start]
    vs = [value]
    for length, slope in segments:
        if length <= 0:
            continue
        xs.append(xs[-1] + length)
        vs.append(vs[-1] + length * slope)
    full = Convex(tuple(xs), tuple(vs))
    inner = [x for x in xs if lo < x < hi]
    points = [lo, *inner, hi] if hi > lo else [lo]
    return Convex(tuple(points), tuple(full(x) for x in points))


def relaxed_battery_values(
    prices: list[float],
    peak_kwh: list[float],
    *,
    capacity: float,
    min_soc: float,
    charge_kwh: float,
    discharge_kwh: float,
    efficiency: float,
) -> list[Convex]:
    """V[t](soc): least battery cost (p) from slot t on, relaxed; V[T] = 0."""
    count = len(prices)
    values: list[Convex] = [Convex((min_soc, capacity), (0.0, 0.0))]
    segs: _Segments = [(capacity - min_soc, 0.0)]
    start, start_value = min_soc, 0.0
    for t in range(count - 1, -1, -1):
        p = prices[t]
        d = min(discharge_kwh, peak_kwh[t])
        c = efficiency * charge_kwh
        # g(y): cost of changing the SoC by y in slot t; y in [-d, c]; convex.
        g = sorted([(d, p), (c, p / efficiency)], key=lambda s: s[1])
        g_end = -p * d + sum(length * slope for length, slope in g)
        # V_t(s) = min_u g(u - s) + V_{t+1}(u) = (g(-.) inf-conv V_{t+1})(s)
        flipped = [(length, -slope) for length, slope in reversed(g)]
        start, start_value = start - c, start_value + g_end
        segs = sorted([*segs, *flipped], key=lambda s: s[1])
        full = _from_segments(
            start, start_value, segs, start, start + sum(s[0] for s in segs)
        )
        values.append(_from_segments(start, start_value, segs, min_soc, capacity))
        # keep the unrestricted form for the next step, clipped to [min_soc, capacity]
        start, start_value, segs = _clip(full, min_soc, capacity)
    values.reverse()
    return values


def _clip(f: Convex, lo: float, hi: float) -> tuple[float, float, _Segments]:
    """Restrict f to [lo, hi] and return it as (start, value, segments)."""
    g = _from_segments(f.xs[0], f.values[0], _segments(f), lo, hi)
    return g.xs[0], g.values[0], _segments(g)


def _segments(f: Convex) -> _Segments:
    return [
        (x1 - x0, (v1 - v0) / (x1 - x0))
        for x0, x1, v0, v1 in zip(f.xs, f.xs[1:], f.values, f.values[1:], strict=False)
        if x1 > x0
    ]


def cheapest_sums(
    prices: list[float], eligible: list[bool], most: int
) -> list[list[float]]:
    """table[t][r]: the sum of the r cheapest eligible prices in [t, T)."""
    count = len(prices)
    table: list[list[float]] = [[0.0] * (most + 1) for _ in range(count + 1)]
    inf = float("inf")
    for r in range(1, most + 1):
        table[count][r] = inf
    for t in range(count - 1, -1, -1):
        pool = sorted(prices[i] for i in range(t, count) if eligible[i])
        total = 0.0
        for r in range(1, most + 1):
            if r <= len(pool):
                total += pool[r - 1]
                table[t][r] = total
            else:
                table[t][r] = inf
    return table
