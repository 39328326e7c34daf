"""What a plan still does from a moment on: the grid, the sun and the parts.

Pure (no HA import). The grid flows of every slot follow from the plan's
parts as the planner's simulator has them: net = base load + loads + battery
(+ charging) - PV; import = max(net, 0); export = the rest up to the export
limit; what is left is curtailed. So the parts always add up to the total:

    loads + base load + battery + solar + export = import cost - export revenue

``solar`` is the PV used in the house (the import it saves, at the import
price), ``export`` what exporting earns; both count negative.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math

from .prices import SLOT
from .scheduling import Schedule

HOURS = SLOT / timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotFlows:
    """Per slot (kWh): the grid, the sun and the batteries' part in the house.

    ``solar_used_kwh`` is the PV the house and the batteries take;
    ``battery_home_kwh`` the batteries' charge less what they give the house
    (what they sell is in ``export_kwh``, with the PV sold).
    """

    import_kwh: tuple[float, ...]
    export_kwh: tuple[float, ...]
    curtailed_kwh: tuple[float, ...]
    solar_used_kwh: tuple[float, ...]
    battery_home_kwh: tuple[float, ...]


def _column(values: Sequence[float], count: int) -> Sequence[float]:
    return values or (0.0,) * count


def slot_flows(schedule: Schedule) -> SlotFlows:
    """Return the grid, PV and battery flows of every slot of the plan."""
    count = len(schedule.slot_starts)
    demand = [kw * HOURS for kw in schedule.base_load()]
    battery = [0.0] * count
    for load in schedule.loads.values():
        row = battery if load.soc_kwh is not None else demand
        for index, kw in enumerate(_column(load.kw, count)):
            row[index] += kw * HOURS
    pv = [kw * HOURS for kw in _column(schedule.pv_kw, count)]
    cap = (
        math.inf
        if schedule.export_limit_kw is None
        else schedule.export_limit_kw * HOURS
    )
    flows: list[tuple[float, ...]] = []
    for use, flow, sun in zip(demand, battery, pv, strict=True):
        charge, discharge = max(flow, 0.0), max(-flow, 0.0)
        net = use + flow - sun
        export = min(max(-net, 0.0), cap)
        curtailed = min(max(-net, 0.0) - export, sun)
        used = min(sun - curtailed, use + charge)
        to_house = min(discharge, max(use - used, 0.0))
        flows.append((max(net, 0.0), export, curtailed, used, charge - to_house))
    columns = [tuple(row[i] for row in flows) for i in range(5)]
    return SlotFlows(
        import_kwh=columns[0],
        export_kwh=columns[1],
        curtailed_kwh=columns[2],
        solar_used_kwh=columns[3],
        battery_home_kwh=columns[4],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """Energy (kWh) and cost (p) planned from a moment to the end of the plan."""

    energy_kwh: float = 0.0
    cost: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedTotals:
    """What the plan still has to do, by part; the parts add up to the total.

    ``loads`` are the controlled loads, ``base_load`` everything else the house
    draws, ``battery`` the battery's flow (charging costs, discharging into the
    house saves), at the import price; ``solar`` the PV used in the house and
    ``export`` what is sold (both negative). ``grid_import`` is what the house
    buys, so ``total`` (= import cost - export revenue) is what it will pay.
    """

    loads: Mapping[str, Planned]
    base_load: Planned
    battery: Planned
    solar: Planned = field(default_factory=Planned)
    export: Planned = field(default_factory=Planned)
    grid_import: Planned = field(default_factory=Planned)

    @property
    def controlled(self) -> Planned:
        """Return the controlled loads together (without the battery)."""
        return _sum(self.loads.values())

    @property
    def total(self) -> Planned:
        """Return the net import (kWh) and what the house pays (p)."""
        return _sum(
            [self.controlled, self.base_load, self.battery, self.solar, self.export]
        )


def _sum(parts: Iterable[Planned]) -> Planned:
    items = list(parts)
    return Planned(
        energy_kwh=round(sum(item.energy_kwh for item in items), 4),
        cost=round(sum(item.cost for item in items), 4),
    )


def planned_from(
    schedule: Schedule, now: datetime, until: datetime | None = None
) -> PlannedTotals:
    """Return what is planned from ``now`` on (to ``until``; half-hours pro rata).

    What ran before ``now`` is in the day's totals instead: the two never
    count the same energy. An unknown price adds no cost.
    """
    count = len(schedule.slot_starts)
    weights = []
    for start in schedule.slot_starts:
        end = min(start + SLOT, until) if until is not None else start + SLOT
        weights.append(max(end - max(start, now), timedelta(0)) / SLOT)
    prices = [price or 0.0 for price in schedule.prices]
    exported = schedule.export_prices or (None,) * count
    # Export earns nothing where its price, or the import price, is unknown.
    paid = [
        0.0 if price is None or earns is None else earns
        for price, earns in zip(schedule.prices, exported, strict=True)
    ]

    def part(kwh: Sequence[float], rate: Sequence[float], sign: float) -> Planned:
        energy = cost = 0.0
        for value, weight, price in zip(kwh, weights, rate, strict=True):
            energy += sign * value * weight
            cost += sign * value * weight * price
        return Planned(energy_kwh=round(energy, 4), cost=round(cost, 4))

    def kwh(kws: Sequence[float]) -> list[float]:
        return [kw * HOURS for kw in _column(kws, count)]

    loads = {
        load_id: part(kwh(load.kw), prices, 1.0)
        for load_id, load in schedule.loads.items()
        if load.soc_kwh is None
    }
    flows = slot_flows(schedule)
    return PlannedTotals(
        loads=loads,
        base_load=part(kwh(schedule.base_load()), prices, 1.0),
        battery=part(flows.battery_home_kwh, prices, 1.0),
        solar=part(flows.solar_used_kwh, prices, -1.0),
        export=part(flows.export_kwh, paid, -1.0),
        grid_import=part(flows.import_kwh, prices, 1.0),
    )


PARTS = ("controlled_loads", "base_load", "battery", "solar", "export", "grid_import")


def parts_of(totals: PlannedTotals) -> dict[str, Planned]:
    """Return the named parts of a breakdown (as on the sensor's attributes)."""
    return {
        "controlled_loads": totals.controlled,
        "base_load": totals.base_load,
        "battery": totals.battery,
        "solar": totals.solar,
        "export": totals.export,
        "grid_import": totals.grid_import,
    }


@dataclass(slots=True, kw_only=True)
class DayParts:
    """The plan's parts over the half-hours of one local day that have passed."""

    day: str = ""
    parts: dict[str, Planned] = field(default_factory=dict)
    until: datetime | None = None  # booked up to here

    def add(self, day: str, totals: PlannedTotals, until: datetime) -> None:
        """Add what the plan had between ``self.until`` and ``until`` (``day``'s)."""
        if day != self.day:
            self.day, self.parts = day, {}
        for name, part in parts_of(totals).items():
            before = self.parts.get(name, Planned())
            self.parts[name] = Planned(
                energy_kwh=round(before.energy_kwh + part.energy_kwh, 4),
                cost=round(before.cost + part.cost, 4),
            )
        self.until = until

    def with_(self, day: str, totals: PlannedTotals) -> dict[str, Planned]:
        """Return the day's parts with ``totals`` added, and the total."""
        parts = dict(self.parts) if day == self.day else {}
        for name, part in parts_of(totals).items():
            before = parts.get(name, Planned())
            parts[name] = Planned(
                energy_kwh=round(before.energy_kwh + part.energy_kwh, 4),
                cost=round(before.cost + part.cost, 4),
            )
        parts["total"] = _sum(parts[name] for name in PARTS[:5])
        return parts

    def as_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {
            "day": self.day,
            "until": self.until.isoformat() if self.until else None,
            "parts": {
                name: [part.energy_kwh, part.cost] for name, part in self.parts.items()
            },
        }

    @classmethod
    def from_dict(cls, data: object) -> DayParts:
        """Restore; anything that cannot be trusted gives an empty day."""
        try:
            assert isinstance(data, Mapping)  # noqa: S101 - caught below
            until = datetime.fromisoformat(data["until"]) if data["until"] else None
            if until is not None and until.utcoffset() is None:
                return cls()
            parts = {}
            for name, (energy, cost) in data["parts"].items():
                if name not in PARTS or not all(
                    math.isfinite(float(v)) for v in (energy, cost)
                ):
                    return cls()
                parts[name] = Planned(energy_kwh=float(energy), cost=float(cost))
            return cls(day=str(data["day"]), parts=parts, until=until)
        except AssertionError, KeyError, TypeError, ValueError:
            return cls()
