"""The ground truth: what a set of decisions costs under the battery semantics.

Per slot, net import = base load + loads + battery force-charge draw - battery
discharge; cost = sum(price x net import kWh).  ``force_charge`` draws
min(charge_kw x dt, (capacity - SoC) / efficiency) and stores draw x efficiency;
``normal`` discharges min(discharge_kw x dt, SoC - min SoC, site demand) so it
never exports; ``charge_only`` holds.  In a slot without a price the battery
holds whatever its mode, and the energy imported there adds nothing to the
cost (its price is unknown).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Simulation:
    """Per-slot energies and the cost of a set of decisions."""

    cost: float
    net_import_kwh: tuple[float, ...]
    load_kwh: Mapping[str, tuple[float, ...]]
    soc_kwh: tuple[float, ...]


def _decision_error(load_id: str, what: str) -> ValueError:
    return ValueError(f"decisions for {load_id!r}: {what}")


def load_energy(  # noqa: C901
    problem: Problem, decisions: Decisions
) -> dict[str, list[float]]:
    """Energy (kWh) each non-battery load draws in every slot."""
    count = len(problem.slots)
    dt = problem.slot_hours
    energy: dict[str, list[float]] = {}
    for load in problem.loads:
        row = [0.0] * count
        match load:
            case InterruptibleLoad():
                on = decisions.on.get(load.id)
                if on is None or len(on) != count:
                    raise _decision_error(load.id, f"need {count} on/off values")
                for i, flag in enumerate(on):
                    if flag:
                        row[i] = load.power_kw * dt
            case CycleLoad():
                if load.id not in decisions.start:
                    raise _decision_error(load.id, "missing start")
                start = decisions.start[load.id]
                if start is not None:
                    if not 0 <= start <= count - len(load.profile_kwh):
                        raise _decision_error(load.id, f"start {start} out of range")
                    for i, kwh in enumerate(load.profile_kwh):
                        row[start + i] = kwh
            case Battery():
                continue
        energy[load.id] = row
    return energy


def battery_step(
    battery: Battery, mode: BatteryMode, soc: float, demand_kwh: float, dt: float
) -> tuple[float, float]:
    """Return (grid energy, new SoC) of one slot; grid < 0 is a discharge."""
    if mode is BatteryMode.FORCE_CHARGE:
        room = (battery.capacity_kwh - soc) / battery.efficiency
        draw = max(0.0, min(battery.charge_kw * dt, room))
        return draw, min(battery.capacity_kwh, soc + draw * battery.efficiency)
    if mode is BatteryMode.NORMAL:
        out = max(
            0.0, min(battery.discharge_kw * dt, soc - battery.min_soc_kwh, demand_kwh)
        )
        return -out, soc - out
    return 0.0, soc


def simulate_detail(problem: Problem, decisions: Decisions) -> Simulation:
    """Simulate ``decisions`` slot by slot."""
    count = len(problem.slots)
    dt = problem.slot_hours
    energy = load_energy(problem, decisions)
    demand = [kw * dt for kw in problem.base_kw]
    for row in energy.values():
        for i, kwh in enumerate(row):
            demand[i] += kwh
    net = list(demand)
    socs: list[float] = []
    result: dict[str, tuple[float, ...]] = {k: tuple(v) for k, v in energy.items()}
    priced = problem.priced
    for load in problem.loads:
        if not isinstance(load, Battery):
            continue
        modes = decisions.mode.get(load.id)
        if modes is None or len(modes) != count:
            raise _decision_error(load.id, f"need {count} battery modes")
        soc = load.soc_kwh
        socs.append(soc)
        grid_row: list[float] = []
        for i, mode in enumerate(modes):
            held = BatteryMode(mode) if priced[i] else BatteryMode.CHARGE_ONLY
            grid, soc = battery_step(load, held, soc, demand[i], dt)
            grid_row.append(grid)
            net[i] += grid
            socs.append(soc)
        result[load.id] = tuple(grid_row)
    cost = sum(p * kwh for p, kwh in zip(problem.prices, net, strict=True))
    return Simulation(
        cost=cost, net_import_kwh=tuple(net), load_kwh=result, soc_kwh=tuple(socs)
    )


def simulate(problem: Problem, decisions: Decisions) -> float:
    """Import cost in pence of ``decisions`` for ``problem``."""
    return simulate_detail(problem, decisions).cost
