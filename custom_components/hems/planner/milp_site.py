"""What the MILP's battery and grid rows share about the site, slot by slot."""

from dataclasses import dataclass, field

from .milp_matrix import Bounded, Expr, const


@dataclass
class Site:
    """Per-slot constants and the columns drawing in each slot.

    ``const`` is the demand whatever the plan does, ``peak`` the most it can
    be; ``loads[t]`` the load columns (coefficient kWh) and ``battery[t]`` the
    battery's (+ charging, - discharging).  ``lowest_net`` / ``highest_net``
    bound the slot's net import over every plan.
    """

    count: int
    dt: float
    prices: list[float]
    export_prices: list[float]
    priced: tuple[bool, ...]
    const: list[float]
    peak: list[float]
    pv: list[float]
    export_cap: float  # kWh per slot (inf: no limit)
    loads: list[list[tuple[int, float]]] = field(default_factory=list)
    battery: list[list[tuple[int, float]]] = field(default_factory=list)
    lowest_net: list[float] = field(default_factory=list)
    highest_net: list[float] = field(default_factory=list)

    def demand(self, t: int) -> Bounded:
        """Return the slot's demand (base and loads), kWh."""
        expr = Expr(tuple(self.loads[t]), self.const[t])
        return Bounded(expr, self.const[t], self.peak[t])

    def surplus(self, t: int) -> Bounded:
        """Return PV minus demand, kWh."""
        d = self.demand(t)
        return Bounded(const(self.pv[t]) - d.expr, self.pv[t] - d.hi, self.pv[t] - d.lo)

    def net(self, t: int) -> Expr:
        """Return the net import (demand + charge - discharge - PV), kWh."""
        return self.demand(t).expr + Expr(tuple(self.battery[t]), -self.pv[t])
