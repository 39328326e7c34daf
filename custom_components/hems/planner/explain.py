"""Human-readable reasons for each load's slots, with costs, and what the sun does.

A load's share of the PV in a slot is its part of the PV left over after the
base load (shared in proportion to the loads' energy); the battery's is what
it charges from PV surplus.  The battery *sells* in a slot where it delivers
more than the house uses.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

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

SPAN_LIMIT = 3  # time spans named in a sentence, then "..."
KWH_SHOWN = 0.005  # less is not mentioned


def _hhmm(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%MZ}"


def _spans(problem: Problem, slots: Sequence[int]) -> str:
    """Name runs of consecutive slots as HH:MM-HH:MM (UTC), the first few."""
    runs: list[tuple[int, int]] = []
    for t in sorted(slots):
        if runs and runs[-1][1] == t - 1:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    step: timedelta = problem.slot_length
    text = ", ".join(
        f"{problem.slots[a].start:%H:%M}-{problem.slots[b].start + step:%H:%M}"
        for a, b in runs[:SPAN_LIMIT]
    )
    return text + (", ..." if len(runs) > SPAN_LIMIT else "")


def _range(values: Sequence[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.4g}" if close_enough(low, high) else f"{low:.4g}-{high:.4g}"


def close_enough(a: float, b: float) -> bool:
    """Whether two prices print the same."""
    return f"{a:.4g}" == f"{b:.4g}"


def solar_kwh(problem: Problem, sim: Simulation) -> dict[str, list[float]]:
    """PV energy each load (battery: charged from surplus) takes in every slot."""
    dt = problem.slot_hours
    base = [kw * dt for kw in problem.base_kw]
    pv = problem.pv_kwh
    loads = [x for x in problem.loads if not isinstance(x, Battery)]
    result: dict[str, list[float]] = {x.id: [0.0] * len(pv) for x in problem.loads}
    for t, sun in enumerate(pv):
        spare = max(0.0, sun - base[t])
        drawn = sum(sim.load_kwh[x.id][t] for x in loads)
        share = 1.0 if drawn <= spare else spare / drawn
        for x in loads:
            result[x.id][t] = sim.load_kwh[x.id][t] * share
        for b in problem.loads:
            if isinstance(b, Battery):
                flow = sim.load_kwh[b.id][t]
                result[b.id][t] = max(0.0, min(flow, spare - min(drawn, spare)))
    return result


def _load_cost(
    problem: Problem, kwh: Sequence[float], pv_kwh: Sequence[float]
) -> float:
    """Return the grid energy at its price, the PV at the export price it forgoes."""
    solar = pv_kwh or [0.0] * len(kwh)
    return sum(
        p * (e - s) + x * s
        for p, x, e, s in zip(
            problem.prices, problem.export_prices, kwh, solar, strict=True
        )
    )


def _solar_note(problem: Problem, row: Sequence[float]) -> str:
    total = sum(row)
    if total < KWH_SHOWN:
        return ""
    slots = [t for t, kwh in enumerate(row) if kwh >= KWH_SHOWN]
    return f"{total:.2f} kWh from PV surplus {_spans(problem, slots)}"


def _interruptible(
    problem: Problem,
    load: InterruptibleLoad,
    on: tuple[bool, ...],
    sim: Simulation,
    pv_kwh: Sequence[float] = (),
) -> Explanation:
    prices = problem.prices
    run = run_slots(problem, load)
    chosen = [i for i, flag in enumerate(on) if flag]
    energy = sum(sim.load_kwh[load.id])
    cost = _load_cost(problem, sim.load_kwh[load.id], pv_kwh)
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
    if solar := _solar_note(problem, pv_kwh):
        parts.append(solar)
    if chosen != list(cheapest_run(prices, run)):
        parts.append(
            "moved off its cheapest slots by the sun, the import limit or ties"
        )
    return Explanation(
        summary="; ".join(parts) + f"; cost {cost:.2f} p",
        cost=cost,
        energy_kwh=energy,
        shortfall_slots=run.shortfall,
    )


def _cycle(
    problem: Problem,
    load: CycleLoad,
    start: int | None,
    sim: Simulation,
    pv_kwh: Sequence[float] = (),
) -> Explanation:
    starts = cycle_starts(problem, load)
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
    cost = _load_cost(problem, sim.load_kwh[load.id], pv_kwh)
    best = cheapest_start(starts)
    summary = (
        f"starts {_hhmm(problem.slots[start].start)}, cost {cost:.2f} p; "
        f"{len(starts.allowed)} allowed start(s)"
    )
    if solar := _solar_note(problem, pv_kwh):
        summary += f"; {solar}"
    if best is not None and best != start:
        summary += "; moved off its cheapest start by the sun, the import limit or ties"
    return Explanation(summary=summary, cost=cost, energy_kwh=sum(load.profile_kwh))


def _battery(
    problem: Problem,
    load: Battery,
    modes: tuple[BatteryMode, ...] | None,
    sim: Simulation,
    pv_kwh: Sequence[float],
) -> Explanation:
    grid = sim.load_kwh[load.id]
    prices = problem.prices
    charged = sum(g for g in grid if g > 0)
    discharged = -sum(g for g in grid if g < 0)
    cost = sum(
        p * g if g > 0 else x * g
        for p, x, g in zip(
            prices, _discharge_values(problem, sim, load), grid, strict=True
        )
    )
    if modes is None:
        how = "power setpoints: "
    else:
        counts = {m: sum(1 for x in modes if x is m) for m in BatteryMode}
        how = (
            f"force-charge {counts[BatteryMode.FORCE_CHARGE]}, normal "
            f"{counts[BatteryMode.NORMAL]}, force-discharge "
            f"{counts[BatteryMode.FORCE_DISCHARGE]} slot(s): "
        )
    summary = (
        f"{how}charges {charged:.2f} kWh, discharges {discharged:.2f} kWh; "
        f"net {cost:+.2f} p; SoC {sim.soc_kwh[0]:.2f} -> {sim.soc_kwh[-1]:.2f} kWh"
    )
    if solar := _solar_note(problem, pv_kwh):
        summary += f"; {solar}"
    sold = _sold(problem, sim, load)
    if any(kwh > KWH_SHOWN for kwh in sold):
        summary += f"; sells {sum(sold):.2f} kWh"
    return Explanation(summary=summary, cost=cost, energy_kwh=charged - discharged)


def _sold(problem: Problem, sim: Simulation, load: Battery) -> list[float]:
    """Return what the battery exports in each slot (beyond the house's use)."""
    grid = sim.load_kwh[load.id]
    return [min(max(0.0, -g), e) for g, e in zip(grid, sim.export_kwh, strict=True)]


def _discharge_values(problem: Problem, sim: Simulation, load: Battery) -> list[float]:
    """Per slot, what a discharged kWh is worth: import avoided, or export earned."""
    sold = _sold(problem, sim, load)
    grid = sim.load_kwh[load.id]
    return [
        p if g >= 0 else (p * (-g - x) + e * x) / -g
        for p, e, g, x in zip(
            problem.prices, problem.export_prices, grid, sold, strict=True
        )
    ]


def sun_sentence(problem: Problem, sim: Simulation) -> str:
    """Say what the sun (and selling to the grid) does in the plan; "" if nothing."""
    solar = solar_kwh(problem, sim)
    parts: list[str] = []
    for load in problem.loads:
        row = solar[load.id]
        slots = [t for t, kwh in enumerate(row) if kwh >= KWH_SHOWN]
        if not slots:
            continue
        what = "battery stores PV surplus" if isinstance(load, Battery) else load.id
        if not isinstance(load, Battery):
            what += " from PV surplus"
        parts.append(f"{what} {_spans(problem, slots)} ({sum(row):.2f} kWh)")
    dt = problem.slot_hours
    for load in problem.loads:
        if isinstance(load, Battery):
            sold = _sold(problem, sim, load)
            slots = [t for t, kwh in enumerate(sold) if kwh >= KWH_SHOWN]
            if slots:
                kw = max(sold[t] for t in slots) / dt
                at = _range([problem.export_prices[t] for t in slots])
                parts.append(
                    f"battery sells {kw:.3g} kW {_spans(problem, slots)} at {at} p"
                )
    exported = [t for t, kwh in enumerate(sim.export_kwh) if kwh >= KWH_SHOWN]
    if exported:
        at = _range([problem.export_prices[t] for t in exported])
        parts.append(f"exports {sum(sim.export_kwh):.2f} kWh at {at} p/kWh")
    curtailed = sum(sim.curtailed_kwh)
    if curtailed >= KWH_SHOWN:
        parts.append(f"{curtailed:.2f} kWh of PV curtailed (export limit)")
    if not parts:
        return (
            f"PV {sum(problem.pv_kwh):.2f} kWh covers part of the base load"
            if problem.has_pv
            else ""
        )
    return "; ".join(parts)


def explain(
    problem: Problem, decisions: Decisions, sim: Simulation
) -> dict[str, Explanation]:
    """One :class:`Explanation` per load, keyed by load id."""
    solar = solar_kwh(problem, sim)
    result: dict[str, Explanation] = {}
    for load in problem.loads:
        pv = solar[load.id]
        match load:
            case InterruptibleLoad():
                result[load.id] = _interruptible(
                    problem, load, decisions.on[load.id], sim, pv
                )
            case CycleLoad():
                result[load.id] = _cycle(
                    problem, load, decisions.start[load.id], sim, pv
                )
            case Battery():
                result[load.id] = _battery(
                    problem, load, decisions.mode.get(load.id), sim, pv
                )
    return result
