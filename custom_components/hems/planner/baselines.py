"""The house without control, and a power battery told to act as a mode.

Without control every load starts as soon as it is allowed (an interruptible
load in the first eligible slots of its window, a cycle at its first allowed
start) and the battery does plain self-consumption (``normal``: PV surplus in,
deficit out, never the grid).
"""

from collections.abc import Mapping, Sequence

from .eligibility import cycle_starts, run_slots
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)
from .simulate import load_energy


def offered(battery: Battery, wanted: BatteryMode) -> BatteryMode:
    """Return ``wanted`` if the battery offers it, else ``charge_only`` (hold)."""
    if battery.control == "power" or wanted in battery.modes:
        return wanted
    return BatteryMode.CHARGE_ONLY


def demand_kwh(problem: Problem, decisions: Decisions) -> list[float]:
    """Energy the house draws in every slot without the batteries, kWh."""
    demand = [kw * problem.slot_hours for kw in problem.base_kw]
    for row in load_energy(problem, decisions).values():
        for i, kwh in enumerate(row):
            demand[i] += kwh
    return demand


def mode_setpoints(
    problem: Problem,
    battery: Battery,
    modes: Sequence[BatteryMode],
    demand: list[float],
) -> tuple[float, ...]:
    """Power setpoints (kW) under which a power battery does what ``modes`` say.

    The simulator limits a setpoint to what the battery can do, so ``normal``
    is the slot's surplus (+) or deficit (-) and ``charge_only`` its surplus.
    """
    h = problem.slot_hours
    pv = problem.pv_kwh
    points: list[float] = []
    for mode, used, sun in zip(modes, demand, pv, strict=True):
        surplus_kw = (sun - used) / h
        match mode:
            case BatteryMode.FORCE_CHARGE:
                points.append(battery.charge_kw)
            case BatteryMode.FORCE_DISCHARGE:
                points.append(-battery.discharge_kw)
            case BatteryMode.NORMAL:
                points.append(surplus_kw)
            case _:
                points.append(max(0.0, surplus_kw))
    return tuple(points)


def steer(
    problem: Problem,
    on: Mapping[str, tuple[bool, ...]],
    start: Mapping[str, int | None],
    modes: Mapping[str, tuple[BatteryMode, ...]],
) -> Decisions:
    """Return the decisions: modes for mode batteries, setpoints for power ones."""
    loads_only = Decisions(on=on, start=start)
    power_batteries = [
        b for b in problem.loads if isinstance(b, Battery) and b.control == "power"
    ]
    demand = demand_kwh(problem, loads_only) if power_batteries else []
    return Decisions(
        on=dict(on),
        start=dict(start),
        mode={
            load.id: modes[load.id]
            for load in problem.loads
            if isinstance(load, Battery) and load.control == "modes"
        },
        power={
            b.id: mode_setpoints(problem, b, modes[b.id], demand)
            for b in power_batteries
        },
    )


def uncontrolled_decisions(problem: Problem) -> Decisions:
    """Every load as soon as allowed, every battery in self-consumption."""
    count = len(problem.slots)
    on: dict[str, tuple[bool, ...]] = {}
    start: dict[str, int | None] = {}
    modes: dict[str, tuple[BatteryMode, ...]] = {}
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                run = run_slots(problem, load)
                chosen = set(run.forced)
                for i in run.eligible:
                    if len(chosen) >= run.count:
                        break
                    chosen.add(i)
                on[load.id] = tuple(i in chosen for i in range(count))
            case CycleLoad():
                allowed = cycle_starts(problem, load).allowed
                start[load.id] = allowed[0] if allowed else None
            case Battery():
                modes[load.id] = (offered(load, BatteryMode.NORMAL),) * count
    return steer(problem, on, start, modes)
