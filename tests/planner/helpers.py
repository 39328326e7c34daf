"""Builders and a brute-force oracle for the planner tests."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import itertools

from custom_components.hems.planner import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
    Slot,
)
from custom_components.hems.planner.eligibility import cycle_starts, run_slots
from custom_components.hems.planner.feasibility import limit_excess_kwh, violations
from custom_components.hems.planner.simulate import (
    battery_step,
    grid_split,
    simulate_detail,
)

T0 = datetime(2024, 1, 10, 17, tzinfo=UTC)


def at(slot: int, start: datetime = T0, minutes: int = 30) -> datetime:
    """Start of slot ``slot``."""
    return start + timedelta(minutes=minutes * slot)


def make_slots(
    prices: Sequence[float | None], start: datetime = T0, minutes: int = 30
) -> tuple[Slot, ...]:
    return tuple(
        Slot(start=at(i, start, minutes), price=p) for i, p in enumerate(prices)
    )


def all_decisions(problem: Problem) -> Iterator[Decisions]:
    """Every decision set meeting the loads' own requirements (limit unchecked)."""
    count = len(problem.slots)
    on_choices: list[tuple[str, list[tuple[bool, ...]]]] = []
    start_choices: list[tuple[str, list[int | None]]] = []
    mode_choices: list[tuple[str, list[tuple[BatteryMode, ...]]]] = []
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                run = run_slots(problem, load)
                rows = [
                    tuple(i in combo for i in range(count))
                    for combo in itertools.combinations(run.eligible, run.count)
                    if set(run.forced) <= set(combo)
                ]
                on_choices.append((load.id, rows))
            case CycleLoad():
                allowed = cycle_starts(problem, load).allowed
                start_choices.append((load.id, list(allowed) if allowed else [None]))
            case Battery():
                mode_choices.append(
                    (load.id, list(itertools.product(list(load.modes), repeat=count)))
                )
    for ons in itertools.product(*(rows for _, rows in on_choices)):
        for starts in itertools.product(*(rows for _, rows in start_choices)):
            for modes in itertools.product(*(rows for _, rows in mode_choices)):
                yield Decisions(
                    on={k: v for (k, _), v in zip(on_choices, ons, strict=True)},
                    start={
                        k: v for (k, _), v in zip(start_choices, starts, strict=True)
                    },
                    mode={k: v for (k, _), v in zip(mode_choices, modes, strict=True)},
                )


@dataclass(frozen=True)
class Oracle:
    """Brute-force optimum: least cost when feasible, least excess otherwise."""

    feasible: bool
    cost: float
    excess: float


def brute_force(problem: Problem) -> Oracle:
    best_cost = float("inf")
    best_excess = float("inf")
    for decisions in all_decisions(problem):
        sim = simulate_detail(problem, decisions)
        excess = limit_excess_kwh(problem, sim.net_import_kwh)
        best_excess = min(best_excess, excess)
        if excess <= 1e-9:
            best_cost = min(best_cost, sim.cost)
    return Oracle(feasible=best_cost < float("inf"), cost=best_cost, excess=best_excess)


def assert_feasible(problem: Problem, decisions: Decisions) -> None:
    found = violations(problem, decisions)
    assert not found, found


def close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * (1 + abs(a) + abs(b))


type _Runner = tuple[float, set[int], set[int], int]
type _Cycle = tuple[tuple[float, ...], set[int], bool]


def _plain_moves(
    t: int, key: tuple[int, ...], runners: list[_Runner], cycles: list[_Cycle]
) -> list[tuple[tuple[int, ...], float]]:
    """(next progress, load kWh) of every load move in slot t."""
    options: list[list[tuple[int, float]]] = []
    for i, (kwh, eligible, forced, need) in enumerate(runners):
        done = key[i]
        later = sum(1 for u in eligible if u > t)
        forced_later = sum(1 for u in forced if u > t)
        row = []
        if t not in forced and need - done <= later:
            row.append((done, 0.0))
        if t in eligible and done < need and need - done - 1 >= forced_later:
            row.append((done + 1, kwh))
        options.append(row)
    for j, (profile, allowed, any_start) in enumerate(cycles):
        phase = key[len(runners) + j]
        if not any_start:
            options.append([(0, 0.0)])
        elif phase == 0:
            row = [(1, profile[0])] if t in allowed else []
            if any(k > t for k in allowed):
                row.append((0, 0.0))
            options.append(row)
        elif phase < len(profile):
            options.append([(phase + 1, profile[phase])])
        else:
            options.append([(phase, 0.0)])
    return [
        (tuple(o[0] for o in combo), sum(o[1] for o in combo))
        for combo in itertools.product(*options)
    ]


def _pareto(
    entries: list[tuple[float, float]], penalty: float
) -> list[tuple[float, float]]:
    entries.sort(key=lambda e: (-e[0], e[1]))
    kept = []
    best = float("inf")
    for soc, cost in entries:
        if cost + penalty * soc < best - 1e-9:
            kept.append((soc, cost))
            best = cost + penalty * soc
    return kept


def plain_dp(problem: Problem, *, best_effort: bool = False) -> float | None:
    """Least cost by a plain DP over (load progress, SoC): no bound, no pruning.

    An independent reference for horizons too long for brute force, built on
    the simulator's battery step and grid split (PV, export, curtailment; in a
    slot without a price the battery holds and the slot costs nothing).  States
    with the same progress keep their non-dominated (SoC, cost) pairs: from a
    higher SoC the same decisions cost at most N/eff per kWh more, N the most
    negative import or export price to come.  ``None`` if the limit cannot be
    met (without ``best_effort``; with it the energy above the limit costs 1e6 p/kWh).
    """
    dt = problem.slot_hours
    prices = problem.prices
    limit = None if problem.import_limit_kw is None else problem.import_limit_kw * dt
    base = [kw * dt for kw in problem.base_kw]
    runners: list[_Runner] = []
    cycles: list[_Cycle] = []
    battery = next((b for b in problem.loads if isinstance(b, Battery)), None)
    for load in problem.loads:
        if isinstance(load, InterruptibleLoad):
            run = run_slots(problem, load)
            runners.append(
                (load.power_kw * dt, set(run.eligible), set(run.forced), run.count)
            )
        elif isinstance(load, CycleLoad):
            allowed = cycle_starts(problem, load).allowed
            cycles.append((load.profile_kwh, set(allowed), bool(allowed)))
    layer: dict[tuple[int, ...], list[tuple[float, float]]] = {
        (0,) * (len(runners) + len(cycles)): [
            (battery.soc_kwh if battery else 0.0, 0.0)
        ]
    }
    priced = problem.priced
    pv = problem.pv_kwh
    export_prices = problem.export_prices
    cap = problem.export_cap_kwh
    for t, price in enumerate(prices):
        nxt: dict[tuple[int, ...], list[tuple[float, float]]] = {}
        for key, entries in layer.items():
            for new_key, kwh in _plain_moves(t, key, runners, cycles):
                demand = base[t] + kwh
                for soc, cost in entries:
                    steps = [(0.0, soc)]  # no battery
                    if battery is not None:
                        modes = (
                            battery.modes if priced[t] else (BatteryMode.CHARGE_ONLY,)
                        )
                        steps = [
                            battery_step(battery, mode, soc, demand, dt, pv[t], cap)
                            for mode in modes
                        ]
                    for grid, new_soc in steps:
                        net = demand + grid - pv[t]
                        extra = 0.0
                        if limit is not None and net > limit + 1e-9:
                            if not best_effort:
                                continue
                            extra = 1e6 * (net - limit)
                        imported, exported, _ = grid_split(net, cap)
                        paid = price * imported - export_prices[t] * exported
                        nxt.setdefault(new_key, []).append(
                            (new_soc, cost + paid + extra)
                        )
        penalty = 0.0
        if battery is not None:
            later = [*prices[t + 1 :], *export_prices[t + 1 :]]
            penalty = max([0.0, *(-p / battery.efficiency for p in later)])
        layer = {key: _pareto(entries, penalty) for key, entries in nxt.items()}
    finals = [cost for entries in layer.values() for _, cost in entries]
    return min(finals) if finals else None
