"""Human-readable reasons for each load's slots, with costs."""

from datetime import datetime

from .eligibility import cycle_starts, run_slots
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    Explanation,
    InterruptibleLoad,
    Problem,
)
from .rules import cheapest_run, cheapest_start
from .simulate import Simulation


def _hhmm(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%MZ}"


def _interruptible(
    problem: Problem, load: InterruptibleLoad, on: tuple[bool, ...], sim: Simulation
) -> Explanation:
    prices = problem.prices
    run = run_slots(problem, load)
    chosen = [i for i, flag in enumerate(on) if flag]
    energy = sum(sim.load_kwh[load.id])
    cost = sum(prices[i] * kwh for i, kwh in enumerate(sim.load_kwh[load.id]))
    parts = [f"runs {len(chosen)} slot(s) of {load.slots} asked"]
    if chosen:
        low = min(prices[i] for i in chosen)
        high = max(prices[i] for i in chosen)
        parts.append(
            f"priced {low:.2f}..{high:.2f} p/kWh, "
            f"from {_hhmm(problem.slots[chosen[0]].start)}"
        )
    parts.append(f"{len(run.eligible)} eligible of {len(run.window)} in the window")
    if load.max_price is not None:
        parts.append(f"max_price {load.max_price:g}")
    if run.shortfall:
        why = "not enough eligible slots"
        if run.unpriced:
            why += f"; {run.unpriced} slot(s) of the window have no price yet"
        parts.append(f"shortfall {run.shortfall} slot(s): {why}")
    extra = run.count - min(load.slots, len(run.eligible))
    if extra:
        parts.append(
            f"+{extra} opportunistic slot(s) priced <= {load.opportunistic_price:g}"
        )
    if chosen != list(cheapest_run(prices, run)):
        parts.append("moved off its cheapest slots by the import limit or ties")
    return Explanation(
        summary="; ".join(parts) + f"; cost {cost:.2f} p",
        cost=cost,
        energy_kwh=energy,
        shortfall_slots=run.shortfall,
    )


def _cycle(
    problem: Problem, load: CycleLoad, start: int | None, sim: Simulation
) -> Explanation:
    starts = cycle_starts(problem, load)
    prices = problem.prices
    if start is None:
        if not starts.fitting and starts.unpriced:
            why = (
                f"{starts.unpriced} start(s) inside its window would run in slots "
                "that have no price yet"
            )
        elif not starts.fitting:
            why = "no start lets the cycle finish inside its window and the horizon"
        else:
            why = (
                f"every start costs more than max_cost {load.max_cost:g} p "
                f"(cheapest {min(starts.costs):.2f} p)"
            )
        return Explanation(
            summary=f"deferred: {why}", cost=0.0, energy_kwh=0.0, deferred=True
        )
    cost = sum(prices[i] * kwh for i, kwh in enumerate(sim.load_kwh[load.id]))
    best = cheapest_start(starts)
    summary = (
        f"starts {_hhmm(problem.slots[start].start)}, cost {cost:.2f} p; "
        f"{len(starts.allowed)} allowed start(s)"
    )
    if best is not None and best != start:
        summary += "; moved off its cheapest start by the import limit or ties"
    return Explanation(summary=summary, cost=cost, energy_kwh=sum(load.profile_kwh))


def _battery(
    problem: Problem, load: Battery, modes: tuple[BatteryMode, ...], sim: Simulation
) -> Explanation:
    grid = sim.load_kwh[load.id]
    prices = problem.prices
    charged = sum(g for g in grid if g > 0)
    discharged = -sum(g for g in grid if g < 0)
    cost = sum(p * g for p, g in zip(prices, grid, strict=True))
    n_charge = sum(1 for m in modes if m is BatteryMode.FORCE_CHARGE)
    n_normal = sum(1 for m in modes if m is BatteryMode.NORMAL)
    summary = (
        f"force-charges {charged:.2f} kWh in {n_charge} slot(s), discharges "
        f"{discharged:.2f} kWh in {n_normal} normal slot(s); net {cost:+.2f} p; "
        f"SoC {sim.soc_kwh[0]:.2f} -> {sim.soc_kwh[-1]:.2f} kWh"
    )
    return Explanation(summary=summary, cost=cost, energy_kwh=charged - discharged)


def explain(
    problem: Problem, decisions: Decisions, sim: Simulation
) -> dict[str, Explanation]:
    """One :class:`Explanation` per load, keyed by load id."""
    result: dict[str, Explanation] = {}
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                result[load.id] = _interruptible(
                    problem, load, decisions.on[load.id], sim
                )
            case CycleLoad():
                result[load.id] = _cycle(problem, load, decisions.start[load.id], sim)
            case Battery():
                result[load.id] = _battery(problem, load, decisions.mode[load.id], sim)
    return result
