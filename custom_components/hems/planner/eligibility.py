"""Which slots each load may use: windows, price ceilings, cycle starts.

A slot without a price is never eligible, and no cycle may start so that one
of its slots has no price.
"""

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
    unpriced: int = 0  # slots of the window without a price


def run_slots(problem: Problem, load: InterruptibleLoad) -> RunSlots:
    """Eligible slots (window, price known, ``max_price``), forced slots, count."""
    window = window_slots(problem, load.window)
    prices = [slot.price for slot in problem.slots]
    known = [i for i in window if prices[i] is not None]
    top = load.max_price
    eligible = tuple(i for i in known if top is None or (prices[i] or 0.0) <= top)
    forced: tuple[int, ...] = ()
    if load.opportunistic_price is not None:
        ceiling = load.opportunistic_price
        forced = tuple(i for i in eligible if (prices[i] or 0.0) <= ceiling)
    required = min(load.slots, len(eligible))
    return RunSlots(
        window=window,
        eligible=eligible,
        forced=forced,
        count=max(required, len(forced)),
        shortfall=load.slots - required,
        unpriced=len(window) - len(known),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class CycleStarts:
    """Starts of a cycle that fit its window, their costs and the allowed ones.

    ``fitting`` starts keep the whole cycle inside the window on priced
    slots; ``unpriced`` counts the starts inside the window that would run
    in a slot without a price.
    """

    fitting: tuple[int, ...]
    costs: tuple[float, ...]
    allowed: tuple[int, ...]
    unpriced: int = 0


def cycle_cost(prices: list[float], profile: tuple[float, ...], start: int) -> float:
    """Cost in pence of running ``profile`` from slot ``start``."""
    return sum(e * prices[start + i] for i, e in enumerate(profile))


def cycle_starts(problem: Problem, load: CycleLoad) -> CycleStarts:
    """Find the starts whose cycle fits the window; allowed if cost <= max_cost."""
    window = window_slots(problem, load.window)
    length = len(load.profile_kwh)
    inside = range(window.start, window.stop - length + 1)
    priced = problem.priced
    fitting = tuple(k for k in inside if all(priced[k : k + length]))
    prices = problem.prices
    costs = tuple(cycle_cost(prices, load.profile_kwh, k) for k in fitting)
    if load.max_cost is None:
        allowed = fitting
    else:
        ceiling = load.max_cost + COST_TOLERANCE
        allowed = tuple(k for k, c in zip(fitting, costs, strict=True) if c <= ceiling)
    return CycleStarts(
        fitting=fitting,
        costs=costs,
        allowed=allowed,
        unpriced=len(inside) - len(fitting),
    )
