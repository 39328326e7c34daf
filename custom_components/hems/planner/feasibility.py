"""Whether a set of decisions meets every load's requirements and the import caps."""

from .eligibility import cycle_starts, run_slots
from .errors import InfeasibleError
from .models import Battery, CycleLoad, Decisions, InterruptibleLoad, Problem
from .outcome import EXCESS_WEIGHT, TARGET_WEIGHT
from .simulate import Simulation, simulate_detail

LIMIT_TOLERANCE_KWH = 1e-6


def violations(problem: Problem, decisions: Decisions) -> list[str]:  # noqa: C901
    """Every broken requirement, as readable sentences (empty if feasible)."""
    found: list[str] = []
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                run = run_slots(problem, load)
                on = decisions.on[load.id]
                chosen = {i for i, flag in enumerate(on) if flag}
                if not chosen <= set(run.eligible):
                    found.append(f"{load.id}: runs outside its eligible slots")
                if len(chosen) != run.count:
                    found.append(
                        f"{load.id}: runs {len(chosen)} slots, not {run.count}"
                    )
                if not set(run.forced) <= chosen:
                    found.append(f"{load.id}: skips an opportunistic slot")
            case CycleLoad():
                starts = cycle_starts(problem, load)
                start = decisions.start[load.id]
                if start is None and starts.allowed:
                    found.append(f"{load.id}: deferred although a start is allowed")
                if start is not None and start not in starts.allowed:
                    found.append(f"{load.id}: start {start} not allowed")
            case Battery():
                steering = (
                    decisions.power.get(load.id)
                    if load.control == "power"
                    else decisions.mode.get(load.id)
                )
                if steering is None or len(steering) != len(problem.slots):
                    found.append(f"{load.id}: wrong number of modes or setpoints")
                elif load.control == "modes" and not set(steering) <= set(load.modes):
                    found.append(f"{load.id}: a mode it does not offer")
    caps = problem.import_caps_kwh
    if caps is not None:
        net = simulate_detail(problem, decisions).net_import_kwh
        found.extend(
            f"slot {i}: net import {kwh:.4f} kWh over the limit"
            for i, (kwh, cap) in enumerate(zip(net, caps, strict=True))
            if kwh > cap + LIMIT_TOLERANCE_KWH
        )
    return found


def limit_excess_kwh(problem: Problem, net_import_kwh: tuple[float, ...]) -> float:
    """Total energy imported above the import caps (site limit, slots' caps)."""
    caps = problem.import_caps_kwh
    if caps is None:
        return 0.0
    return sum(
        max(0.0, kwh - cap) for kwh, cap in zip(net_import_kwh, caps, strict=True)
    )


def import_shortfall_kwh(problem: Problem, sim: Simulation) -> float:
    """Total net import below the slots' targets (``min_import_kw``).

    The net is the house's draw before curtailment: import - export - curtailed
    (demand + charge - discharge - PV), the quantity the solvers see.
    """
    floors = problem.import_floors_kwh
    if floors is None:
        return 0.0
    return sum(
        max(0.0, floor - (net - spilt))
        for floor, net, spilt in zip(
            floors, sim.net_import_kwh, sim.curtailed_kwh, strict=True
        )
    )


def _cap_source(problem: Problem, t: int) -> tuple[str, float]:
    """Which cap binds slot t: (field, kW)."""
    slot = problem.slots[t]
    site = problem.import_limit_kw
    if slot.max_import_kw is not None and (site is None or slot.max_import_kw < site):
        return f"slots[{t}].max_import_kw", slot.max_import_kw
    assert site is not None  # noqa: S101 - a slot without a cap has none
    return "import_limit_kw", site


def limit_error(problem: Problem) -> InfeasibleError:
    """Return the error for caps no plan meets, naming a cap, slot or load."""
    caps = problem.import_caps_kwh
    if caps is None:  # nothing to explain: a solver failure
        return InfeasibleError(
            "import_limit_kw",
            "none is set, yet no plan was found (a planner error: please report it)",
        )
    dt = problem.slot_hours
    relief = max(
        (b.discharge_kw for b in problem.loads if isinstance(b, Battery)), default=0.0
    )
    base = problem.base_kw
    priced = problem.priced
    for t, kw in enumerate(base):
        if kw - (relief if priced[t] else 0.0) > caps[t] / dt:
            field, cap = _cap_source(problem, t)
            when = f"{problem.slots[t].start:%Y-%m-%dT%H:%MZ}"
            return InfeasibleError(
                field, f"{cap:g} kW cannot be met: the base load is {kw:g} kW at {when}"
            )
    some = min(range(len(caps)), key=lambda t: (caps[t], t))
    field, cap = _cap_source(problem, some)
    name = "the import caps" if field != "import_limit_kw" else f"{cap:g} kW"
    for i, load in enumerate(problem.loads):
        if isinstance(load, InterruptibleLoad):
            run = run_slots(problem, load)
            room = sum(
                1
                for t in run.eligible
                if base[t] + load.power_kw - relief <= caps[t] / dt
            )
            if room < run.count:
                name = (
                    "the import caps" if field != "import_limit_kw" else f"{cap:g} kW"
                )
                return InfeasibleError(
                    field,
                    f"{name} cannot be met: loads[{i}] ({load.id}) must run "
                    f"{run.count} slot(s) at {load.power_kw:g} kW but only {room} "
                    "eligible slot(s) have room",
                )
    return InfeasibleError(
        field, f"{name} cannot be met by the loads' required slots together"
    )


def limit_infeasibility(problem: Problem) -> str:
    """Explain an infeasible limit (:func:`limit_error`'s reason)."""
    return limit_error(problem).reason


def weighted_cost(problem: Problem, decisions: Decisions, *, weighted: bool) -> float:
    """Return what ``decisions`` cost, plus the weighted shortfall below the targets.

    With ``weighted`` (best effort) the excess above the caps is weighted too.
    """
    sim = simulate_detail(problem, decisions)
    excess = limit_excess_kwh(problem, sim.net_import_kwh) if weighted else 0.0
    short = import_shortfall_kwh(problem, sim)
    return sim.cost + EXCESS_WEIGHT * excess + TARGET_WEIGHT * short
