"""The first plan: the loads placed for a battery that holds.

With the battery holding in every slot the loads interact only through the
import limit: each at its own cheapest slots when together they fit (the
fast path), else the greedy placement (largest load first, each at its
cheapest slots with room), else, where greedy finds no room, the MILP of the
loads alone, which is small and quick for HiGHS (no battery, so no mode
selectors; it gets a share of the time left).  The exact solvers start from
it: the DP keeps it as its best known plan and plans the battery around its
loads for its first ceiling, the MILP takes it as its first incumbent.
"""

from dataclasses import replace
import time

from .budget import Budget
from .dp import build_model, fixed_loads
from .errors import InfeasibleError
from .feasibility import LIMIT_TOLERANCE_KWH, limit_excess_kwh, weighted_cost
from .milp import solve_milp
from .models import Battery, Decisions, Problem
from .rules import independent_decisions
from .simulate import simulate_detail

TIME_SHARE = 0.2  # of the time left, for the MILP of the loads alone

type Known = tuple[Decisions, float]  # a plan and its cost (with the shortfall)


def _holding(problem: Problem, decisions: Decisions) -> Known:
    hold = independent_decisions(problem)  # the batteries as they hold there
    held = Decisions(
        on=decisions.on, start=decisions.start, mode=hold.mode, power=hold.power
    )
    return held, weighted_cost(problem, held, weighted=False)


def first_plan(
    problem: Problem, budget: Budget, own: Decisions | None = None
) -> Known | None:
    """Place the loads at their cheapest with the battery holding, if possible.

    ``own`` is each load at its own cheapest with the battery holding
    (:func:`.rules.independent_decisions`), if the caller has it already.
    """
    own = own or independent_decisions(problem)
    sim = simulate_detail(problem, own)
    if limit_excess_kwh(problem, sim.net_import_kwh) <= LIMIT_TOLERANCE_KWH:
        return own, weighted_cost(problem, own, weighted=False)
    loads = replace(
        problem, loads=tuple(x for x in problem.loads if not isinstance(x, Battery))
    )
    greedy = fixed_loads(build_model(loads), loads.prices)
    if greedy is not None:
        return _holding(
            problem, Decisions(on=greedy.fixed_on, start=greedy.fixed_start)
        )
    share = Budget(
        deadline=min(
            budget.deadline, time.monotonic() + TIME_SHARE * budget.remaining_s()
        ),
        memory_bytes=budget.memory_bytes,
        baseline=budget.baseline,
    )
    try:
        found = solve_milp(loads, budget=share).decisions
    except InfeasibleError:  # the battery's discharge may still make room
        return None
    return None if found is None else _holding(problem, found)
