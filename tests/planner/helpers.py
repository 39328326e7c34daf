"""Builders and a brute-force oracle for the planner tests."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import itertools
from pathlib import Path

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
from custom_components.hems.planner.simulate import simulate_detail

SHARED_DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
AGILE_CSV = SHARED_DATA / "agile_A_2018-02-19_2021-08-23.csv"
PROFILES_CSV = SHARED_DATA / "appliance_profiles_30min.csv"
T0 = datetime(2024, 1, 10, 17, tzinfo=UTC)


def at(slot: int, start: datetime = T0, minutes: int = 30) -> datetime:
    """Start of slot ``slot``."""
    return start + timedelta(minutes=minutes * slot)


def make_slots(
    prices: Sequence[float], start: datetime = T0, minutes: int = 30
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
                    (load.id, list(itertools.product(list(BatteryMode), repeat=count)))
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
