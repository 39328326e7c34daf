"""What a strategy's committed slots booked: energies (kWh) and money (p)."""

from dataclasses import dataclass, fields

from .models import Battery, Problem
from .simulate import Simulation


@dataclass(frozen=True, kw_only=True, slots=True)
class Booked:
    """Energies (kWh) and costs (p) of one strategy over a period (they add up).

    ``self_consumed_kwh`` is the PV used in the house and by the battery (per
    slot the smaller of PV and demand + battery charge); ``battery_loss_kwh``
    is what charging lost (1 - efficiency of the energy drawn) and
    ``soc_change_kwh`` the change of the stored energy, so that import -
    export = demand + soc change + loss - (PV - curtailed).
    """

    import_kwh: float = 0.0
    export_kwh: float = 0.0
    curtailed_kwh: float = 0.0
    self_consumed_kwh: float = 0.0
    pv_kwh: float = 0.0
    demand_kwh: float = 0.0
    battery_loss_kwh: float = 0.0
    soc_change_kwh: float = 0.0
    import_cost: float = 0.0
    export_revenue: float = 0.0

    @property
    def energy(self) -> float:
        """Net import (import - export), kWh."""
        return self.import_kwh - self.export_kwh

    @property
    def cost(self) -> float:
        """Net cost (import cost - export revenue), p."""
        return self.import_cost - self.export_revenue

    @property
    def average(self) -> float:
        """Average import price, p/kWh."""
        return self.import_cost / self.import_kwh if self.import_kwh else 0.0

    def __add__(self, other: Booked) -> Booked:
        """Sum two periods."""
        return Booked(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in fields(self)
            }
        )

    def priced(self, import_price: float, export_price: float) -> Booked:
        """Return the same energies at a flat import and export price."""
        return Booked(
            **{f.name: getattr(self, f.name) for f in fields(self)}
            | {
                "import_cost": self.import_kwh * import_price,
                "export_revenue": self.export_kwh * export_price,
            }
        )


def book(problem: Problem, sim: Simulation) -> Booked:
    """Return what a simulated (committed) problem booked."""
    batteries = {b.id: b for b in problem.loads if isinstance(b, Battery)}
    count = len(problem.slots)
    demand = [kw * problem.slot_hours for kw in problem.base_kw]
    charge = [0.0] * count
    loss = 0.0
    change = 0.0
    for load_id, row in sim.load_kwh.items():
        battery = batteries.get(load_id)
        for i, kwh in enumerate(row):
            if battery is None:
                demand[i] += kwh
            elif kwh > 0:
                charge[i] += kwh
                loss += kwh * (1 - battery.efficiency)
                change += kwh * battery.efficiency
            else:
                change += kwh
    pv = sim.pv_kwh or tuple(problem.pv_kwh)
    return Booked(
        import_kwh=sum(sim.import_kwh),
        export_kwh=sum(sim.export_kwh),
        curtailed_kwh=sum(sim.curtailed_kwh),
        self_consumed_kwh=sum(
            min(g, d + c) for g, d, c in zip(pv, demand, charge, strict=True)
        ),
        pv_kwh=sum(pv),
        demand_kwh=sum(demand),
        battery_loss_kwh=loss,
        soc_change_kwh=change,
        import_cost=sum(
            p * e for p, e in zip(problem.prices, sim.import_kwh, strict=True)
        ),
        export_revenue=sum(
            p * e for p, e in zip(problem.export_prices, sim.export_kwh, strict=True)
        ),
    )
