"""What a load's plan means, in one sentence a householder can read (pure).

Shown on the load's *Planned energy* sensor (``status``) and on the card:
what is planned, or why nothing is ("waiting for tomorrow's prices", "only 3
of 8 h fit before 07:30", "deferred: every start costs more than 40 p").
Times are local; the first slot of a run and the window's end are named.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from .load_config import (
    BatteryConfig,
    CycleConfig,
    InterruptibleConfig,
    LoadConfig,
)
from .scheduling import PlannedWindow, Schedule, next_instance


def _when(moment: datetime, tz: ZoneInfo, now: datetime) -> str:
    """Return "18:00" today, else "Tue 18:00"."""
    local = moment.astimezone(tz)
    if local.date() == now.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def _hours(slots: float) -> str:
    return f"{slots / 2:g} h"


def _window_status(
    load: InterruptibleConfig | CycleConfig,
    window: PlannedWindow,
    schedule: Schedule,
    tz: ZoneInfo,
    now: datetime,
) -> str:
    end = _when(window.end, tz, now)
    if isinstance(load, CycleConfig):
        if window.cycle_start is not None:
            cost = f"{window.cycle_cost:.1f} p" if window.cycle_cost is not None else ""
            return f"Starts {_when(window.cycle_start, tz, now)}, a cycle of {cost}."
        costs = schedule.loads[load.id].cycle_costs or ()
        known = [cost for cost in costs if cost is not None]
        if load.max_cycle_cost is not None and known:
            return (
                f"Deferred: every start before {end} costs more than "
                f"{load.max_cycle_cost:g} p (the cheapest {min(known):.1f} p)."
            )
        if window.unpriced_from is not None:
            return (
                "Waiting for prices after "
                f"{_when(window.unpriced_from, tz, now)} to fit the cycle before {end}."
            )
        return f"Deferred: the cycle no longer fits before {end}."
    planned = window.planned_slots
    asked = planned + window.shortfall_slots
    if window.shortfall_slots:
        fit = f"Only {_hours(planned)} of {_hours(asked)} fit before {end}"
        if window.unpriced_from is not None:
            return (
                f"{fit}: prices after {_when(window.unpriced_from, tz, now)} are "
                "not known yet (the rest is planned when they arrive)."
            )
        if isinstance(load, InterruptibleConfig) and load.cheaper_than_gas:
            return f"{fit}: only they are cheaper than gas."
        return f"{fit}."
    if planned == 0:
        return f"Nothing more to do before {end}."
    first = _first_run(schedule, load.id, window)
    start = f" from {_when(first, tz, now)}" if first is not None else ""
    return f"{_hours(planned)} planned{start}, done by {end}."


def _first_run(
    schedule: Schedule, load_id: str, window: PlannedWindow
) -> datetime | None:
    plan = schedule.loads[load_id]
    return next(
        (
            start
            for start, on in zip(schedule.slot_starts, plan.on, strict=True)
            if on and window.start <= start < window.end
        ),
        None,
    )


def load_status(
    load: LoadConfig, schedule: Schedule | None, tz: ZoneInfo, now: datetime
) -> str:
    """Return what the plan does for ``load`` next, or why it does nothing."""
    if schedule is None:
        return "No plan yet: waiting for prices."
    plan = schedule.loads.get(load.id)
    if isinstance(load, BatteryConfig):
        if plan is None or plan.modes is None:
            return "Not planned."
        charge = sum(1 for mode in plan.modes if mode == "force_charge")
        hold = sum(1 for mode in plan.modes if mode == "charge_only")
        return (
            f"Charges from the grid in {charge} half-hour(s), holds its charge in "
            f"{hold}, covers the house the rest of the time."
        )
    window = next(
        (item for item in (plan.windows if plan else ()) if item.end > now), None
    )
    upcoming = next_instance(load.window, tz, now)
    if (
        upcoming is not None
        and f"{load.id}@{upcoming.key}" not in schedule.considered
        and (window is None or upcoming.start < window.start)
    ):
        span = f"{_when(upcoming.start, tz, now)} to {_when(upcoming.end, tz, now)}"
        return (
            f"Waiting for the prices up to {_when(upcoming.end, tz, now)} "
            f"(published about 16:00 the day before) to plan {span}."
        )
    if window is None:
        return "Nothing planned in the known prices."
    return _window_status(load, window, schedule, tz, now)
