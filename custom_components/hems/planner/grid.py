"""The grid side of one slot: its cost as a function of the net, and its envelope.

A slot whose net (demand + charge - discharge - PV, kWh) is n costs

    f(n) = p max(n, 0) - e min(max(-n, 0), E)   (+ W max(0, n - L) in best effort)

import at p, export at e up to E, the rest curtailed at no cost (the excess
above the import limit L weighted by W in best effort).  f is piecewise linear
with breakpoints 0, -E and L: convex only when its slopes 0, e, p (, p + W)
ascend, so not when export pays more than import or costs something under a
limit.  The bound (:mod:`.lpbound`) prices import and export apart and adds
the pieces of f's convex lower envelope over the nets a plan can reach where
f is not convex there.
"""

from dataclasses import dataclass
import itertools
import math

import numpy as np
import numpy.typing as npt

type Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SlotCost:
    """f of one slot: import price, export price, export cap, weighted limit."""

    price: float
    export_price: float = 0.0
    export_cap: float = math.inf
    limit: float = math.inf  # above it the excess costs ``weight`` (best effort)
    weight: float = 0.0

    def __call__(self, net: float) -> float:
        """f(net), p."""
        cost = self.price * max(net, 0.0)
        cost -= self.export_price * min(max(-net, 0.0), self.export_cap)
        if net > self.limit:
            cost += self.weight * (net - self.limit)
        return cost

    def points(self, lo: float, hi: float) -> list[float]:
        """Return the ends of [lo, hi] and the breakpoints of f inside, ascending."""
        inner = [x for x in (-self.export_cap, 0.0, self.limit) if lo < x < hi]
        return [lo, *sorted(inner), hi] if hi > lo else [lo]

    def least_split(  # noqa: PLR0917
        self,
        a: tuple[float, float],
        b: float,
        c: float,
        lo: float,
        hi: float,
        curtail: float,
    ) -> float:
        """Min of a i + b x + c k over the slot's boxes.

        i (import) in [0, max(hi, 0)] at a[0] per kWh up to the limit, a[1]
        above it (best effort), x (export) in [0, min(E, max(-lo, 0))],
        k (curtailment) in [0, ``curtail``]: what the Lagrangian leaves of the
        slot once its balance and rows are dualised.
        """
        top = max(hi, 0.0)
        low = min(top, self.limit)
        most = min(0.0, a[0] * low, a[0] * low + a[1] * (top - low))
        room = min(self.export_cap, max(-lo, 0.0))
        return most + min(0.0, b * room) + min(0.0, c * curtail)

    def lines(self, lo: float, hi: float) -> list[tuple[float, float]]:
        """(slope, intercept) of the envelope's pieces where f is not convex.

        Every plan's cost f(net) >= slope x net + intercept for net in [lo, hi];
        empty where f is convex there (f itself is then the envelope).
        """
        points = self.points(lo, hi)
        start, segments = self.envelope(lo, hi)
        if len(segments) >= len(points) - 1:
            return []
        result: list[tuple[float, float]] = []
        x, y = lo, start
        for length, slope in segments:
            result.append((slope, y - slope * x))
            x, y = x + length, y + slope * length
        return result

    def envelope(self, lo: float, hi: float) -> tuple[float, list[tuple[float, float]]]:
        """Return the convex lower envelope of f on [lo, hi]: f(lo), (length, slope)s.

        The slopes ascend (the lower convex hull of f at its points).
        """
        xs = self.points(lo, hi)
        hull: list[tuple[float, float]] = []
        for x in xs:
            y = self(x)
            while len(hull) >= 2:  # noqa: PLR2004 - the last two hull points
                (x1, y1), (x2, y2) = hull[-2], hull[-1]
                if (y2 - y1) * (x - x1) >= (y - y1) * (x2 - x1):  # x2 not below
                    hull.pop()
                else:
                    break
            hull.append((x, y))
        segments = [
            (x2 - x1, (y2 - y1) / (x2 - x1))
            for (x1, y1), (x2, y2) in itertools.pairwise(hull)
            if x2 > x1
        ]
        return hull[0][1], segments


def grid_cost(
    net: Floats, price: float, export_price: float, export_cap: float
) -> Floats:
    """f(net) for many nets at once, without the best-effort weight."""
    cost: Floats = price * np.maximum(net, 0.0)
    if export_price:
        cost -= export_price * np.minimum(np.maximum(-net, 0.0), export_cap)
    return cost
