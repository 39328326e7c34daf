"""Which slots each load may use: windows, price ceilings, cycle starts."""

from dataclasses import dataclass

from .models import CycleLoad, InterruptibleLoad, Problem, Window

COST_TOLERANCE = 1e-9


def window_slots(problem: Problem, window: Window | None) -> range:
    """Return the slots lying wholly inside ``window`` (all if ``None``)."""
    count = len(problem.slots)
    if window is None:
        return range(count)
    first = problem.slots[0].start
    step = problem.slot_length
    # first slot with start >= window.start, last with start + step <= window.end
    lo = max(0, -((first - window.start) // step))
    hi = min(count, (window.end - first) // step)
    return range(lo, max(lo, hi))


@dataclass(frozen=True, kw_only=True, slots=True)
class RunSlots:
    """The slots an interruptible load may run in and how many it must run."""

    window: range
    eligible: tuple[int, ...]
    forced: tuple[int, ...]
    count: int
    shortfall: int


def run_slots(problem: Problem, load: InterruptibleLoad) -> RunSlots:
    """Eligible slots (window, ``max_price``), forced opportunistic slots, count."""
    window = window_slots(problem, load.window)
    slots = problem.slots
    eligible = tuple(
        i for i in window if load.max_price is None or slots[i].price <= load.max_price
    )
    forced: tuple[int, ...] = ()
    if load.opportunistic_price is not None:
        ceiling = load.opportunistic_price
        forced = tuple(i for i in eligible if slots[i].price <= ceiling)
    required = min(load.slots, len(eligible))
    return RunSlots(
        window=window,
        eligible=eligible,
        forced=forced,
        count=max(required, len(forced)),
        shortfall=load.slots - required,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class CycleStarts:
    """Starts of a cycle that fit its window, their costs and the allowed ones."""

    fitting: tuple[int, ...]
    costs: tuple[float, ...]
    allowed: tuple[int, ...]


def cycle_cost(prices: list[float], profile: tuple[float, ...], start: int) -> float:
    """Cost in pence of running ``profile`` from slot ``start``."""
    return sum(e * prices[start + i] for i, e in enumerate(profile))


def cycle_starts(problem: Problem, load: CycleLoad) -> CycleStarts:
    """Find the starts whose cycle fits the window; allowed if cost <= max_cost."""
    window = window_slots(problem, load.window)
    length = len(load.profile_kwh)
    fitting = tuple(range(window.start, window.stop - length + 1))
    prices = problem.prices
    costs = tuple(cycle_cost(prices, load.profile_kwh, k) for k in fitting)
    if load.max_cost is None:
        allowed = fitting
    else:
        ceiling = load.max_cost + COST_TOLERANCE
        allowed = tuple(k for k, c in zip(fitting, costs, strict=True) if c <= ceiling)
    return CycleStarts(fitting=fitting, costs=costs, allowed=allowed)
