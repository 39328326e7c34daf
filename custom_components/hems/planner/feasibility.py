"""Whether a set of decisions meets every load's requirements and the limit."""

from .eligibility import cycle_starts, run_slots
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
    if problem.import_limit_kw is not None:
        cap = problem.import_limit_kw * problem.slot_hours + LIMIT_TOLERANCE_KWH
        net = simulate_detail(problem, decisions).net_import_kwh
        found.extend(
            f"slot {i}: net import {kwh:.4f} kWh over the limit"
            for i, kwh in enumerate(net)
            if kwh > cap
        )
    return found


def limit_excess_kwh(problem: Problem, net_import_kwh: tuple[float, ...]) -> float:
    """Total energy imported above the site's import limit."""
    if problem.import_limit_kw is None:
        return 0.0
    cap = problem.import_limit_kw * problem.slot_hours
    return sum(max(0.0, kwh - cap) for kwh in net_import_kwh)


def _slot_nets(sim: Simulation) -> list[float]:
    """Each slot's net before curtailment: import - export - curtailed."""
    return [
        net - spilt
        for net, spilt in zip(sim.net_import_kwh, sim.curtailed_kwh, strict=True)
    ]


def import_shortfall_kwh(problem: Problem, sim: Simulation) -> float:
    """Total net import below the slots' minimums (``min_import_kw``).

    The net is the house's draw before curtailment: import - export - curtailed
    (demand + charge - discharge - PV), the quantity the solvers see.
    """
    floors = problem.import_floors_kwh
    if floors is None:
        return 0.0
    nets = _slot_nets(sim)
    return sum(max(0.0, f - n) for f, n in zip(floors, nets, strict=True))


def import_excess_kwh(problem: Problem, sim: Simulation) -> float:
    """Total net import above the slots' own caps (``max_import_kw``)."""
    ceilings = problem.import_ceilings_kwh
    if ceilings is None:
        return 0.0
    nets = _slot_nets(sim)
    return sum(max(0.0, n - c) for c, n in zip(ceilings, nets, strict=True))


def target_miss_kwh(problem: Problem, sim: Simulation) -> float:
    """Energy outside the slots' targets: below the minimums, above the caps."""
    return import_shortfall_kwh(problem, sim) + import_excess_kwh(problem, sim)


def limit_infeasibility(problem: Problem) -> str:
    """Explain an infeasible limit, naming a slot or load where possible."""
    if problem.import_limit_kw is None:  # nothing to explain: a solver failure
        return "none is set, yet no plan was found (a planner error: please report it)"
    limit = problem.import_limit_kw
    relief = max(
        (b.discharge_kw for b in problem.loads if isinstance(b, Battery)), default=0.0
    )
    base = problem.base_kw
    priced = problem.priced
    for t, kw in enumerate(base):
        if kw - (relief if priced[t] else 0.0) > limit:
            when = f"{problem.slots[t].start:%Y-%m-%dT%H:%MZ}"
            return f"{limit:g} kW cannot be met: the base load is {kw:g} kW at {when}"
    for i, load in enumerate(problem.loads):
        if isinstance(load, InterruptibleLoad):
            run = run_slots(problem, load)
            room = sum(
                1 for t in run.eligible if base[t] + load.power_kw - relief <= limit
            )
            if room < run.count:
                return (
                    f"{limit:g} kW cannot be met: loads[{i}] ({load.id}) must run "
                    f"{run.count} slot(s) at {load.power_kw:g} kW but only {room} "
                    "eligible slot(s) have room"
                )
    return f"{limit:g} kW cannot be met by the loads' required slots together"


def weighted_cost(problem: Problem, decisions: Decisions, *, weighted: bool) -> float:
    """Return what ``decisions`` cost, plus the weighted miss of the slots' targets.

    With ``weighted`` (best effort) the excess above the caps is weighted too.
    """
    sim = simulate_detail(problem, decisions)
    excess = limit_excess_kwh(problem, sim.net_import_kwh) if weighted else 0.0
    return (
        sim.cost
        + EXCESS_WEIGHT * excess
        + TARGET_WEIGHT * target_miss_kwh(problem, sim)
    )
