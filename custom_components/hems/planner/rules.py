"""Simple per-device rules: the exact answer for one load alone, and a baseline.

``cheapest_run`` (sort by (price, index)) is optimal for an interruptible load
on its own and ``cheapest_start`` (scan) for a cycle on its own; the planner
uses them as fast paths when loads do not interact.  ``rule_decisions`` adds a
price-threshold battery rule and ignores the import limit: it is what a
household without an optimiser would do.
"""

import math
import statistics

from .baselines import demand_kwh, offered, steer
from .eligibility import CycleStarts, RunSlots, cycle_starts, run_slots
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)
from .simulate import battery_flows, stored


def cheapest_run(prices: list[float], run: RunSlots) -> tuple[int, ...]:
    """Pick the forced slots plus the cheapest others, ties to the earliest."""
    forced = set(run.forced)
    others = sorted(
        (i for i in run.eligible if i not in forced), key=lambda i: (prices[i], i)
    )
    return tuple(sorted([*run.forced, *others[: run.count - len(forced)]]))


def cheapest_start(starts: CycleStarts) -> int | None:
    """Cheapest allowed start, ties to the earliest; ``None`` if none allowed."""
    if not starts.allowed:
        return None
    cost = dict(zip(starts.fitting, starts.costs, strict=True))
    return min(starts.allowed, key=lambda k: (cost[k], k))


def independent_decisions(problem: Problem) -> Decisions:
    """Each interruptible load and cycle at its own optimum; batteries hold.

    A mode-controlled battery holds by ``charge_only`` (it still stores PV
    surplus), a power-controlled one at 0 kW.
    """
    prices = problem.prices
    count = len(prices)
    on: dict[str, tuple[bool, ...]] = {}
    start: dict[str, int | None] = {}
    mode: dict[str, tuple[BatteryMode, ...]] = {}
    power: dict[str, tuple[float, ...]] = {}
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                chosen = set(cheapest_run(prices, run_slots(problem, load)))
                on[load.id] = tuple(i in chosen for i in range(count))
            case CycleLoad():
                start[load.id] = cheapest_start(cycle_starts(problem, load))
            case Battery() if load.control == "power":
                power[load.id] = (0.0,) * count
            case Battery():
                mode[load.id] = (BatteryMode.CHARGE_ONLY,) * count
    return Decisions(on=on, start=start, mode=mode, power=power)


def battery_rule(
    problem: Problem, battery: Battery, discharge_above: float | None = None
) -> tuple[BatteryMode, ...]:
    """Force-charge in the cheapest slots needed to fill, discharge above a price.

    The threshold defaults to the mean known price of the horizon; charging
    happens only in slots priced below it.  Without a price the battery holds;
    a mode the battery does not offer becomes ``charge_only`` (hold).
    """
    prices = problem.prices
    priced = problem.priced
    known = [p for p, ok in zip(prices, priced, strict=True) if ok] or [0.0]
    threshold = statistics.fmean(known) if discharge_above is None else discharge_above
    per_slot = battery.charge_kw * problem.slot_hours * battery.efficiency
    room = battery.capacity_kwh - battery.soc_kwh
    needed = math.ceil(room / per_slot - 1e-9) if per_slot > 0 else 0
    cheap = sorted(
        (i for i, p in enumerate(prices) if priced[i] and p < threshold),
        key=lambda i: (prices[i], i),
    )[:needed]
    charge = set(cheap)
    return tuple(
        offered(battery, BatteryMode.FORCE_CHARGE)
        if i in charge
        else offered(battery, BatteryMode.NORMAL)
        if priced[i] and p > threshold
        else BatteryMode.CHARGE_ONLY
        for i, p in enumerate(prices)
    )


def _pv_left(
    problem: Problem,
    modes: dict[str, tuple[BatteryMode, ...]],
    demand: list[float],
) -> list[float]:
    """PV surplus per slot (kWh) once the batteries took theirs under ``modes``."""
    h = problem.slot_hours
    cap = problem.export_cap_kwh
    priced = problem.priced
    left = [g - d for g, d in zip(problem.pv_kwh, demand, strict=True)]
    for battery in problem.loads:
        if not isinstance(battery, Battery):
            continue
        soc = battery.soc_kwh
        for i, mode in enumerate(modes[battery.id]):
            held = mode if priced[i] else BatteryMode.CHARGE_ONLY
            used = max(0.0, -left[i])
            c, d = battery_flows(battery, held, soc, used, h, max(0.0, left[i]), cap)
            soc = stored(battery, soc, c, d)
            left[i] += d - c
    return left


def rule_decisions(
    problem: Problem, *, discharge_above: float | None = None
) -> Decisions:
    """Apply the simple per-device rules to every load (ignoring the import limit).

    The battery follows :func:`battery_rule`; cycles start at their cheapest
    start.  PV surplus goes to the battery first, then to the interruptible
    loads in the order listed (car, then water, in the reference household):
    a load runs in an eligible slot whose surplus left covers its whole draw,
    and in its cheapest eligible slots for the rest of its run.
    """
    prices = problem.prices
    count = len(prices)
    h = problem.slot_hours
    modes = {
        load.id: battery_rule(problem, load, discharge_above)
        for load in problem.loads
        if isinstance(load, Battery)
    }
    start = {
        load.id: cheapest_start(cycle_starts(problem, load))
        for load in problem.loads
        if isinstance(load, CycleLoad)
    }
    idle = {
        load.id: (False,) * count
        for load in problem.loads
        if isinstance(load, InterruptibleLoad)
    }
    cycles_only = Decisions(on=idle, start=start)
    left = _pv_left(problem, modes, demand_kwh(problem, cycles_only))
    on: dict[str, tuple[bool, ...]] = {}
    for load in problem.loads:
        if not isinstance(load, InterruptibleLoad):
            continue
        run = run_slots(problem, load)
        draw = load.power_kw * h
        chosen = set(run.forced)
        for i in run.eligible:
            if len(chosen) >= run.count:
                break
            if i not in chosen and left[i] >= draw - 1e-9:
                chosen.add(i)
        rest = [i for i in run.eligible if i not in chosen]
        rest.sort(key=lambda i: (prices[i], i))
        chosen.update(rest[: run.count - len(chosen)])
        for i in chosen:
            left[i] -= draw
        on[load.id] = tuple(i in chosen for i in range(count))
    return steer(problem, on, start, modes)
