"""The grid side of one slot: its cost as a function of the net, and its envelope.

A slot whose net (demand + charge - discharge - PV, kWh) is n costs

    f(n) = p max(n, 0) - e min(max(-n, 0), E)   (+ W max(0, n - L) in best effort)

import at p, export at e up to E, the rest curtailed at no cost (the excess
above the import limit L weighted by W in best effort).  f is piecewise linear
with breakpoints 0, -E and L: convex only when its slopes 0, e, p (, p + W)
ascend, so not when export pays more than import or costs something under a
limit.  The bound works with its convex lower envelope over the range of nets
a plan can reach; a Lagrangian term min_n (f(n) - q n) needs only the
breakpoints and the ends of that range (a linear function minus a piecewise
linear one is least at one of them).
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

    def least_minus(self, q: float, lo: float, hi: float) -> float:
        """Min over n in [lo, hi] of f(n) - q n (the Lagrangian's slot term)."""
        return min(self(x) - q * x for x in self.points(lo, hi))

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
