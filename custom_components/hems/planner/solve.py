"""``plan()``: exact fast paths where loads cannot interact, else the exact DP.

Every plan is bounded in time and memory (:class:`.budget.Budget`): when a
limit stops the search, the best plan found so far is returned with
``optimal=False``, the lower bound proved on the optimum and a note.
"""

from dataclasses import dataclass, replace
import time
from typing import Literal

from .budget import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIME_LIMIT_S, Budget
from .dp import quick_bound, solve_dp
from .errors import InfeasibleError
from .explain import explain, sun_sentence
from .feasibility import (
    LIMIT_TOLERANCE_KWH,
    import_excess_kwh,
    import_shortfall_kwh,
    limit_excess_kwh,
    target_miss_kwh,
    weighted_cost,
)
from .firstplan import first_plan
from .milp import solve_milp
from .models import Battery, Decisions, Plan, Problem
from .outcome import EXCESS_WEIGHT, TARGET_WEIGHT, Outcome
from .rules import independent_decisions
from .simulate import Simulation, simulate_detail
from .validation import validate_problem

type Solver = Literal["auto", "dp", "milp"]

OPTIMAL_GAP_ABS = 1e-6  # pence: a smaller gap is rounding, the plan is optimal
OPTIMAL_GAP_REL = 1e-7
MILP_AFTER_DP_S = 1.0  # time needed to try the MILP after the DP ran out of memory


def shares_the_sun(problem: Problem) -> bool:
    """Whether loads may share PV surplus, so each one's best slots depend on others.

    Without a battery a plan's net in a priced slot is base + loads - PV; where
    the PV never exceeds the base load the net is >= 0 whatever the loads do,
    it costs price x net and the loads' costs add up (no coupling).
    """
    dt = problem.slot_hours
    return any(
        on and sun > kw * dt
        for on, sun, kw in zip(
            problem.priced, problem.pv_kwh, problem.base_kw, strict=True
        )
    )


def _meets_targets(problem: Problem, sim: Simulation) -> bool:
    """Whether a plan is within the limit and meets every slot's targets."""
    return (
        limit_excess_kwh(problem, sim.net_import_kwh) <= LIMIT_TOLERANCE_KWH
        and target_miss_kwh(problem, sim) <= LIMIT_TOLERANCE_KWH
    )


def _target_notes(short: float, over: float) -> list[str]:
    """Say how far the plan misses the slots' targets."""
    notes = []
    if short > LIMIT_TOLERANCE_KWH:
        notes.append(
            f"the import minimums cannot all be met: {short:.3f} kWh below them"
        )
    if over > LIMIT_TOLERANCE_KWH:
        notes.append(f"the import caps cannot all be met: {over:.3f} kWh above them")
    return notes


def _objective(problem: Problem, outcome: Outcome) -> float:
    """Return the plan's objective: its cost, plus the weighted excess if weighted."""
    if outcome.decisions is None:
        return float("inf")
    return weighted_cost(problem, outcome.decisions, weighted=outcome.weighted)


def _power_battery(problem: Problem) -> Battery | None:
    return next(
        (b for b in problem.loads if isinstance(b, Battery) and b.control == "power"),
        None,
    )


def _after_dp(
    problem: Problem, found: Outcome, budget: Budget, *, best_effort: bool
) -> Outcome:
    """Let the MILP go on from the DP's plan, if there is time left.

    After the DP ran out of memory, or from the DP's best mode plan of a
    power-controlled battery not proven optimal (the MILP steers the power).
    """
    power = _power_battery(problem)
    modes_only = power is not None and found.stopped == "modes"
    if not (found.stopped == "memory" or modes_only) or (
        budget.remaining_s() < MILP_AFTER_DP_S
    ):
        return found
    rest = Budget(budget.deadline, budget.memory_bytes, budget.baseline)
    more = solve_milp(
        problem,
        best_effort=best_effort,
        budget=rest,
        start=found.decisions,
        weighted=found.weighted,
    )
    if more.weighted != found.weighted:  # pragma: no cover - the DP proved this
        return found
    if power is not None and (
        more.decisions is None or power.id not in more.decisions.power
    ):  # this MILP does not steer power yet: keep the DP's plan and bound
        return found
    better = _objective(problem, more) < _objective(problem, found)
    return Outcome(
        decisions=more.decisions if better else found.decisions,
        bound=max(found.bound, more.bound),
        optimal=more.optimal and better,
        stopped=None if more.optimal else more.stopped,
        weighted=found.weighted,
        method="dp+milp",
        after=found.stopped,
    )


def _coupled(
    problem: Problem,
    solver: Solver,
    budget: Budget,
    own: Decisions,
    *,
    best_effort: bool,
) -> Outcome:
    """Solve a problem whose loads interact (battery, binding limit).

    A power-controlled battery goes to the MILP (exact for power control),
    warm-started from the first plan; the DP plans mode-controlled ones.
    """
    first = first_plan(problem, budget, own)
    if solver == "milp" or (solver == "auto" and _power_battery(problem) is not None):
        start = None if first is None else first[0]
        return solve_milp(problem, best_effort=best_effort, budget=budget, start=start)
    found = solve_dp(problem, best_effort=best_effort, budget=budget, first=first)
    if solver == "auto" or _power_battery(problem) is not None:
        found = _after_dp(problem, found, budget, best_effort=best_effort)
    return found


@dataclass(frozen=True, slots=True)
class _Proof:
    optimal: bool
    bound: float | None
    gap: float | None
    relative_gap: float | None
    notes: tuple[str, ...]


def _proof(
    outcome: Outcome,
    cost: float,
    weight: float,
    *,
    fallback: bool,
    time_limit_s: float,
    memory_limit_mb: float,
) -> _Proof:
    """Optimality, the bound on the plan's cost, the gap and the notes.

    ``weight``: what the plan's objective adds to its cost (the weighted
    shortfall below the targets, and the excess in best effort).
    """
    bound = outcome.bound - weight if outcome.bound > -float("inf") else None
    gap = None if bound is None else max(0.0, cost - bound)
    optimal = outcome.optimal and not fallback
    if optimal or (
        gap is not None and gap <= OPTIMAL_GAP_ABS + OPTIMAL_GAP_REL * abs(cost)
    ):
        return _Proof(True, cost if bound is None else min(cost, bound), 0.0, 0.0, ())
    limits = {
        "deadline": f"at its {time_limit_s:g} s deadline",
        "memory": f"at its {memory_limit_mb:g} MB memory ceiling",
    }
    why = "the search stopped " + limits.get(outcome.stopped or "", "early")
    if outcome.stopped == "modes":
        why = (
            "the power-controlled battery was planned by its modes (the best "
            "mode plan as setpoints)"
        )
    if outcome.method == "dp+milp":
        first = (
            "the DP planned the power-controlled battery by its modes"
            if outcome.after == "modes"
            else f"the DP stopped {limits['memory']}"
        )
        why = f"{first}, then the MILP " + limits.get(
            outcome.stopped or "", "stopped early"
        )
    if fallback:
        why += " before it found a plan: each load runs at its own cheapest slots"
    relative = None if gap is None or cost == 0 else gap / abs(cost)
    if gap is None:
        proof = "no lower bound on the optimum was proven"
    else:
        share = "" if relative is None else f" ({relative:.2%})"
        proof = (
            f"it costs at most {gap:.2f} p{share} more than the optimum "
            f"(proven lower bound {bound:.2f} p)"
        )
    note = f"not proven optimal: {why}; {proof}"
    return _Proof(False, bound, gap, relative, (note,))


def plan(
    problem: Problem,
    *,
    best_effort: bool = False,
    solver: Solver = "auto",
    validate: bool = True,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    memory_limit_mb: float = DEFAULT_MEMORY_LIMIT_MB,
) -> Plan:
    """Return the cheapest decisions for ``problem``; ties go to the earliest slots.

    Without a battery each load's own optimum (sort or scan) is the joint
    optimum whenever together they respect the import limit; otherwise the
    exact DP (``solver="dp"``; ``"auto"`` goes on with the MILP if the DP
    runs out of memory, and gives a power-controlled battery to the MILP) or
    the MILP (``solver="milp"``, HiGHS) solves the coupled problem.  The
    search stops at ``time_limit_s`` seconds or when the process has grown by
    ``memory_limit_mb`` MB; the plan is then the best found, with
    ``optimal=False``, a proven lower ``bound`` and a note.
    Raises :class:`InfeasibleError` if the limit cannot be met, unless
    ``best_effort``, which returns the cheapest plan with the least energy
    above the limit.
    """
    if not (time_limit_s >= 0 and memory_limit_mb >= 0):  # also rejects NaN
        msg = f"limits must be >= 0: {time_limit_s} s, {memory_limit_mb} MB"
        raise ValueError(msg)
    if validate:
        validate_problem(problem)
    began = time.perf_counter()
    budget = Budget.start(time_limit_s, memory_limit_mb)
    decisions = independent_decisions(problem)
    sim = simulate_detail(problem, decisions)
    has_battery = any(isinstance(load, Battery) for load in problem.loads)
    coupled = has_battery or shares_the_sun(problem) or not _meets_targets(problem, sim)
    if solver == "auto" and not coupled:
        outcome = Outcome(
            decisions=decisions, bound=sim.cost, optimal=True, method="fast"
        )
    else:
        outcome = _coupled(problem, solver, budget, decisions, best_effort=best_effort)
    if not outcome.optimal:  # a bound that needs no LP, should it not have run
        outcome = replace(outcome, bound=max(outcome.bound, quick_bound(problem)))
    fallback = outcome.decisions is None
    if outcome.decisions is not None:
        decisions = outcome.decisions
        sim = simulate_detail(problem, decisions)
    excess = limit_excess_kwh(problem, sim.net_import_kwh)
    short = import_shortfall_kwh(problem, sim)
    over = import_excess_kwh(problem, sim)
    weight = TARGET_WEIGHT * (short + over) + (
        EXCESS_WEIGHT * excess if outcome.weighted else 0.0
    )
    if outcome.optimal and sim.cost + weight > outcome.bound + (
        OPTIMAL_GAP_ABS + OPTIMAL_GAP_REL * abs(sim.cost)
    ):  # a solver's claim the plan does not bear out: report its gap
        outcome = replace(outcome, optimal=False)
    proof = _proof(
        outcome,
        sim.cost,
        weight,
        fallback=fallback,
        time_limit_s=time_limit_s,
        memory_limit_mb=memory_limit_mb,
    )
    notes = list(proof.notes)
    if excess > LIMIT_TOLERANCE_KWH:
        if not (best_effort or fallback):  # pragma: no cover - solvers never do
            raise InfeasibleError("import_limit_kw", "plan exceeds the limit")
        notes.append(
            f"best effort: the import limit {problem.import_limit_kw:g} kW cannot be "
            f"met; {excess:.3f} kWh imported above it"
            if not fallback
            else f"the import limit {problem.import_limit_kw:g} kW is broken by "
            f"{excess:.3f} kWh"
        )
    notes.extend(_target_notes(short, over))
    dt = problem.slot_hours
    return Plan(
        problem=problem,
        decisions=decisions,
        cost=sim.cost,
        net_import_kw=tuple(kwh / dt for kwh in sim.net_import_kwh),
        soc_kwh=sim.soc_kwh,
        explain=explain(problem, decisions, sim),
        method=outcome.method,
        import_kwh=sim.import_kwh,
        export_kwh=sim.export_kwh,
        curtailed_kwh=sim.curtailed_kwh,
        sun=sun_sentence(problem, sim),
        limit_violation_kwh=excess if excess > LIMIT_TOLERANCE_KWH else 0.0,
        import_shortfall_kwh=short if short > LIMIT_TOLERANCE_KWH else 0.0,
        import_excess_kwh=over if over > LIMIT_TOLERANCE_KWH else 0.0,
        notes=tuple(notes),
        seconds=time.perf_counter() - began,
        optimal=proof.optimal,
        bound=proof.bound,
        gap=proof.gap,
        relative_gap=proof.relative_gap,
    )
