"""Simple per-device rules: the exact answer for one load alone, and a baseline.

``cheapest_run`` (sort by (price, index)) is optimal for an interruptible load
on its own and ``cheapest_start`` (scan) for a cycle on its own; the planner
uses them as fast paths when loads do not interact.  ``rule_decisions`` adds a
price-threshold battery rule and ignores the import limit: it is what a
household without an optimiser would do.
"""

import math
import statistics

from .eligibility import CycleStarts, RunSlots, cycle_starts, run_slots
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)


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
    happens only in slots priced below it.  Without a price the battery holds.
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
        BatteryMode.FORCE_CHARGE
        if i in charge
        else BatteryMode.NORMAL
        if priced[i] and p > threshold
        else BatteryMode.CHARGE_ONLY
        for i, p in enumerate(prices)
    )


def rule_decisions(
    problem: Problem, *, discharge_above: float | None = None
) -> Decisions:
    """Apply the simple per-device rules to every load (ignoring the limit)."""
    base = independent_decisions(problem)
    mode = {
        load.id: battery_rule(problem, load, discharge_above)
        for load in problem.loads
        if isinstance(load, Battery)
    }
    return Decisions(on=base.on, start=base.start, mode=mode)
