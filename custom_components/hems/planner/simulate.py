"""The ground truth: what a set of decisions does and costs.

Per slot t (length h hours, kWh): demand = (base + loads) x h, pv = pv_kw x h,
surplus = pv - demand; the battery draws c (stores eff x c) and delivers d;
net = demand + c - d - pv; import = max(net, 0); export = min(max(-net, 0), E)
(E = export limit x h, unbounded without a limit), the rest is curtailed (only
PV, only above the export limit); cost = sum(price x import - export_price x
export).  With C h / D h the charge / discharge rates over the slot:

* ``normal``: surplus >= 0: c = min(surplus, C h, (capacity - SoC) / eff);
  else d = min(-surplus, D h, SoC - min SoC).  Never charges from the grid,
  never exports from the battery.
* ``charge_only`` (hold): c as in normal (PV surplus only), d = 0.
* ``force_charge``: c = min(C h, (capacity - SoC) / eff): PV surplus first,
  the grid the rest.
* ``force_discharge``: d = min(D h, SoC - min SoC, max(0, E - surplus)).
* power control: a setpoint per slot, + charging (c = kW x h) or - discharging
  (d = -kW x h); a setpoint beyond what the battery can do in the slot does what
  it can: c <= min(C h, room / eff), d <= min(D h, SoC - min SoC, demand + E)
  (the battery alone never pushes export past the limit; it may discharge while
  PV is curtailed).

A mode the battery does not offer is an invalid decision.  In a slot without
a price the battery holds (``charge_only``, which still takes PV surplus; power
0) whatever the decision, and the slot adds nothing to the cost (its price is
unknown).  Without PV and without export these are exactly the semantics of a
house without PV: net import = demand + force-charge draw - discharge >= 0.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import math

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
    """Per-slot energies (kWh) and the cost (p) of a set of decisions.

    ``net_import_kwh`` is import - export; ``load_kwh`` holds every load's
    energy per slot, a battery's as its grid-side flow c - d (+ charging).
    """

    cost: float
    net_import_kwh: tuple[float, ...]
    load_kwh: Mapping[str, tuple[float, ...]]
    soc_kwh: tuple[float, ...]
    import_kwh: tuple[float, ...] = ()
    export_kwh: tuple[float, ...] = ()
    curtailed_kwh: tuple[float, ...] = ()
    pv_kwh: tuple[float, ...] = ()


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


def battery_flows(  # noqa: PLR0917
    battery: Battery,
    mode: BatteryMode,
    soc: float,
    demand_kwh: float,
    dt: float,
    pv_kwh: float = 0.0,
    export_cap_kwh: float = math.inf,
) -> tuple[float, float]:
    """Return (c, d) of a mode in one slot: energy drawn and delivered, kWh."""
    room = max(0.0, (battery.capacity_kwh - soc) / battery.efficiency)
    c_lim = min(battery.charge_kw * dt, room)
    d_lim = max(0.0, min(battery.discharge_kw * dt, soc - battery.min_soc_kwh))
    surplus = pv_kwh - demand_kwh
    if mode is BatteryMode.FORCE_CHARGE:
        return c_lim, 0.0
    if mode is BatteryMode.FORCE_DISCHARGE:
        return 0.0, min(d_lim, max(0.0, export_cap_kwh - surplus))
    if surplus >= 0:
        return max(0.0, min(surplus, c_lim)), 0.0
    if mode is BatteryMode.NORMAL:
        return 0.0, min(-surplus, d_lim)
    return 0.0, 0.0


def power_flows(  # noqa: PLR0917
    battery: Battery,
    kw: float,
    soc: float,
    demand_kwh: float,
    dt: float,
    export_cap_kwh: float = math.inf,
) -> tuple[float, float]:
    """Return (c, d) of a power setpoint in one slot, limited to what is possible."""
    if kw >= 0:
        room = max(0.0, (battery.capacity_kwh - soc) / battery.efficiency)
        return min(kw * dt, battery.charge_kw * dt, room), 0.0
    d = min(
        -kw * dt,
        battery.discharge_kw * dt,
        soc - battery.min_soc_kwh,
        demand_kwh + export_cap_kwh,
    )
    return 0.0, max(0.0, d)


def stored(battery: Battery, soc: float, c: float, d: float) -> float:
    """Return the SoC after drawing c and delivering d."""
    return min(battery.capacity_kwh, soc + c * battery.efficiency) - d


def battery_step(  # noqa: PLR0917
    battery: Battery,
    mode: BatteryMode,
    soc: float,
    demand_kwh: float,
    dt: float,
    pv_kwh: float = 0.0,
    export_cap_kwh: float = math.inf,
) -> tuple[float, float]:
    """Return (grid-side flow c - d, new SoC) of one slot in ``mode``."""
    c, d = battery_flows(battery, mode, soc, demand_kwh, dt, pv_kwh, export_cap_kwh)
    return c - d, stored(battery, soc, c, d)


def grid_split(net_kwh: float, export_cap_kwh: float) -> tuple[float, float, float]:
    """Return (import, export, curtailed) of a slot whose net is ``net_kwh``."""
    if net_kwh >= 0:
        return net_kwh, 0.0, 0.0
    export = min(-net_kwh, export_cap_kwh)
    return 0.0, export, -net_kwh - export


def _battery_rows(
    problem: Problem, battery: Battery, decisions: Decisions, demand: list[float]
) -> tuple[list[float], list[float]]:
    """Return the battery's grid-side flow per slot and its SoC track."""
    count = len(problem.slots)
    dt = problem.slot_hours
    cap = problem.export_cap_kwh
    priced = problem.priced
    pv = problem.pv_kwh
    soc = battery.soc_kwh
    socs = [soc]
    flows: list[float] = []
    if battery.control == "power":
        powers = decisions.power.get(battery.id)
        if powers is None or len(powers) != count:
            raise _decision_error(battery.id, f"need {count} power setpoints")
        for i, kw in enumerate(powers):
            c, d = power_flows(
                battery, kw if priced[i] else 0.0, soc, demand[i], dt, cap
            )
            soc = stored(battery, soc, c, d)
            flows.append(c - d)
            socs.append(soc)
        return flows, socs
    modes = decisions.mode.get(battery.id)
    if modes is None or len(modes) != count:
        raise _decision_error(battery.id, f"need {count} battery modes")
    offered = set(battery.modes)
    for i, raw in enumerate(modes):
        mode = BatteryMode(raw)
        if mode not in offered:
            raise _decision_error(battery.id, f"mode {mode} is not offered")
        held = mode if priced[i] else BatteryMode.CHARGE_ONLY
        c, d = battery_flows(battery, held, soc, demand[i], dt, pv[i], cap)
        soc = stored(battery, soc, c, d)
        flows.append(c - d)
        socs.append(soc)
    return flows, socs


def simulate_detail(problem: Problem, decisions: Decisions) -> Simulation:
    """Simulate ``decisions`` slot by slot."""
    dt = problem.slot_hours
    energy = load_energy(problem, decisions)
    demand = [kw * dt for kw in problem.base_kw]
    for row in energy.values():
        for i, kwh in enumerate(row):
            demand[i] += kwh
    pv = problem.pv_kwh
    net = [d - g for d, g in zip(demand, pv, strict=True)]
    socs: list[float] = []
    result: dict[str, tuple[float, ...]] = {k: tuple(v) for k, v in energy.items()}
    for load in problem.loads:
        if not isinstance(load, Battery):
            continue
        flows, socs = _battery_rows(problem, load, decisions, demand)
        for i, flow in enumerate(flows):
            net[i] += flow
        result[load.id] = tuple(flows)
    cap = problem.export_cap_kwh
    split = [grid_split(kwh, cap) for kwh in net]
    imports = tuple(s[0] for s in split)
    exports = tuple(s[1] for s in split)
    cost = sum(
        p * imp - e * exp
        for p, e, imp, exp in zip(
            problem.prices, problem.export_prices, imports, exports, strict=True
        )
    )
    return Simulation(
        cost=cost,
        net_import_kwh=tuple(i - e for i, e in zip(imports, exports, strict=True)),
        load_kwh=result,
        soc_kwh=tuple(socs),
        import_kwh=imports,
        export_kwh=exports,
        curtailed_kwh=tuple(s[2] for s in split),
        pv_kwh=tuple(pv),
    )


def simulate(problem: Problem, decisions: Decisions) -> float:
    """Cost in pence of ``decisions`` for ``problem`` (import paid - export earned)."""
    return simulate_detail(problem, decisions).cost
