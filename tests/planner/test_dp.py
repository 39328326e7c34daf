"""The branch and bound against references: brute force and the plain DP.

The plain DP (:func:`search` without a bound, a ceiling or restriction) is
exact by dominance alone, so it checks the bound, the ceilings, the
restriction and the known plans on horizons too long for brute force.
"""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
import pytest

from custom_components.hems.planner import (
    Battery,
    CycleLoad,
    InfeasibleError,
    InterruptibleLoad,
    Problem,
    Window,
    dp as dp_module,
    plan,
    simulate,
)
from custom_components.hems.planner.budget import Budget
from custom_components.hems.planner.dp import (
    battery_search,
    build_model,
    fixed_loads,
    restrict,
    search,
    solve_dp,
)
from custom_components.hems.planner.feasibility import limit_excess_kwh, violations
from custom_components.hems.planner.lpbound import Bound, lp_multipliers
from custom_components.hems.planner.outcome import Outcome
from custom_components.hems.planner.simulate import simulate_detail

from .helpers import at, brute_force, close, make_slots, plain_dp

prices_st = st.one_of(
    st.integers(-3, 30).map(float),
    st.floats(-5, 40, allow_nan=False).map(lambda p: round(p, 2)),
)


@st.composite
def windows(draw: st.DrawFn, count: int) -> Window | None:
    if draw(st.booleans()):
        return None
    first = draw(st.integers(0, count - 2))
    last = draw(st.integers(first + 2, count))
    return Window(start=at(first), end=at(last))


@st.composite
def medium(
    draw: st.DrawFn, *, max_slots: int = 12, limit: bool | None = None
) -> Problem:
    """Several loads, a battery, often a limit: too big for brute force."""
    count = draw(st.integers(4, max_slots))
    slot_prices = prices_st | st.none() if draw(st.booleans()) else prices_st
    prices = draw(st.lists(slot_prices, min_size=count, max_size=count))
    loads: list = [
        InterruptibleLoad(
            id=f"i{i}",
            power_kw=draw(st.sampled_from([1.0, 3.0, 7.0])),
            slots=draw(st.integers(1, 3)),
            window=draw(windows(count)),
            max_price=draw(st.none() | st.sampled_from([5.0, 15.0])),
            opportunistic_price=draw(st.none() | st.sampled_from([0.0, 3.0])),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    for j in range(draw(st.integers(0, 2))):
        length = draw(st.integers(1, 3))
        loads.append(
            CycleLoad(
                id=f"c{j}",
                profile_kwh=tuple(
                    draw(
                        st.lists(
                            st.sampled_from([0.1, 0.4, 0.9, 1.5]),
                            min_size=length,
                            max_size=length,
                        )
                    )
                ),
                window=draw(windows(count)),
                max_cost=draw(st.none() | st.sampled_from([10.0, 30.0])),
            )
        )
    capacity = draw(st.sampled_from([2.0, 5.0]))
    loads.append(
        Battery(
            id="b",
            capacity_kwh=capacity,
            soc_kwh=draw(st.sampled_from([0.0, 0.5, 1.0])) * capacity,
            min_soc_kwh=draw(st.sampled_from([0.0, 0.1])) * capacity,
            charge_kw=draw(st.sampled_from([1.0, 2.5])),
            discharge_kw=draw(st.sampled_from([0.5, 2.5])),
            efficiency=draw(st.sampled_from([1.0, 0.9])),
        )
    )
    has_limit = draw(st.booleans()) if limit is None else limit
    return Problem(
        slots=make_slots(prices),
        base_load_kw=draw(
            st.sampled_from([0.4, 0.0])
            | st.lists(
                st.sampled_from([0.2, 0.4, 1.5]), min_size=count, max_size=count
            ).map(tuple)
        ),
        import_limit_kw=draw(st.sampled_from([5.0, 9.0])) if has_limit else None,
        loads=tuple(loads),
    )


def plain_cost(problem: Problem, *, best_effort: bool = False) -> float | None:
    """Least cost by the plain DP of the test helpers."""
    return plain_dp(problem, best_effort=best_effort)


def cost_of(problem: Problem, outcome: Outcome) -> float:
    """Return the simulated cost of a solver's decisions."""
    assert outcome.decisions is not None
    return simulate(problem, outcome.decisions)


def excess_of(problem: Problem, outcome: Outcome) -> float:
    assert outcome.decisions is not None
    sim = simulate_detail(problem, outcome.decisions)
    return limit_excess_kwh(problem, sim.net_import_kwh)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium())
def test_branch_and_bound_matches_the_plain_dp(problem):
    reference = plain_cost(problem)
    if reference is None:
        with pytest.raises(InfeasibleError):
            solve_dp(problem)
        best = solve_dp(problem, best_effort=True)
        weighted = plain_cost(problem, best_effort=True)
        assert weighted is not None
        assert best.optimal
        assert best.weighted
        excess = excess_of(problem, best)
        assert excess > 0
        assert close(cost_of(problem, best) + 1e6 * excess, weighted)
        return
    result = solve_dp(problem)
    assert result.decisions is not None
    assert not violations(problem, result.decisions)
    assert result.optimal
    assert close(cost_of(problem, result), reference), (result.bound, reference)
    assert close(result.bound, reference)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium(max_slots=7), st.floats(0.0, 3.0))
def test_every_ceiling_at_or_above_the_optimum_finds_it(problem, extra):
    """The restriction and the pruning never lose an optimal plan."""
    reference = plain_cost(problem)
    if reference is None:
        return
    model = build_model(problem)
    mult = lp_multipliers(model, best_effort=False)
    assert mult is not None
    bound = Bound(model, mult)
    root = (0,) * (len(model.runners) + len(model.cycles))
    low = bound.loads(0, root) + bound.battery(0, model.soc0)
    assert low <= reference + 1e-6  # a valid lower bound
    ceiling = reference + extra
    narrow = restrict(model, bound, ceiling)
    best = search(narrow, Bound(narrow, mult), best_effort=False, ceiling=ceiling)
    assert best is not None
    assert close(best.cost, reference)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(problem=medium(max_slots=7, limit=True))
def test_without_a_known_plan_the_ceiling_rises_from_the_bound(
    problem, monkeypatch_fixed
):
    reference = plain_cost(problem)
    try:
        result = solve_dp(problem)
    except InfeasibleError:
        assert reference is None
        return
    assert reference is not None
    assert close(cost_of(problem, result), reference)


@pytest.fixture
def monkeypatch_fixed(monkeypatch):
    """Make the known-plan heuristic find nothing; start just above the bound."""
    monkeypatch.setattr(dp_module, "fixed_loads", lambda *_: None)
    monkeypatch.setattr(dp_module, "DELTA0", 1e-4)


def test_fixed_loads_respects_the_limit():
    problem = Problem(
        slots=make_slots([1.0, 2.0, 3.0]),
        base_load_kw=0.4,
        import_limit_kw=8.0,
        loads=(
            InterruptibleLoad(id="car", power_kw=7.0, slots=1),
            InterruptibleLoad(id="heater", power_kw=3.0, slots=1),
        ),
    )
    model = build_model(problem)
    placed = fixed_loads(model, model.prices)
    assert placed is not None
    assert placed.fixed_on == {
        "car": (True, False, False),
        "heater": (False, True, False),
    }
    crowded = Problem(
        slots=make_slots([1.0, 2.0]),
        base_load_kw=(2.0, 2.0),
        import_limit_kw=8.0,
        loads=(InterruptibleLoad(id="car", power_kw=7.0, slots=1),),
    )
    assert fixed_loads(build_model(crowded), [1.0, 2.0]) is None


@st.composite
def small_with_battery(draw: st.DrawFn) -> Problem:
    """Two interruptible loads, a cycle and a battery over 2-3 slots."""
    count = draw(st.integers(2, 3))
    prices = draw(st.lists(prices_st, min_size=count, max_size=count))
    loads: list = [
        InterruptibleLoad(
            id=f"i{i}",
            power_kw=draw(st.sampled_from([1.0, 3.5, 7.0])),
            slots=draw(st.integers(0, count)),
        )
        for i in range(2)
    ]
    if draw(st.booleans()):
        loads.append(
            CycleLoad(id="c", profile_kwh=(draw(st.sampled_from([0.3, 1.0])),))
        )
    loads.append(
        Battery(
            id="b",
            capacity_kwh=2.0,
            soc_kwh=draw(st.sampled_from([0.0, 1.0, 2.0])),
            min_soc_kwh=draw(st.sampled_from([0.0, 0.4])),
            charge_kw=draw(st.sampled_from([1.0, 3.0])),
            discharge_kw=draw(st.sampled_from([1.0, 3.0])),
            efficiency=draw(st.sampled_from([1.0, 0.8])),
        )
    )
    return Problem(
        slots=make_slots(prices),
        base_load_kw=draw(st.sampled_from([0.0, 0.5])),
        import_limit_kw=draw(st.none() | st.sampled_from([4.0, 8.0])),
        loads=tuple(loads),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_with_battery())
def test_two_loads_and_a_battery_against_brute_force(problem):
    oracle = brute_force(problem)
    if not oracle.feasible:
        with pytest.raises(InfeasibleError):
            plan(problem)
        best = plan(problem, best_effort=True)
        assert best.limit_violation_kwh == pytest.approx(oracle.excess, abs=1e-6)
        return
    result = plan(problem)
    assert not violations(problem, result.decisions)
    assert close(result.cost, oracle.cost), (result.cost, oracle.cost)


@pytest.mark.parametrize("hours", [23, 25])
def test_clock_change_horizons(hours):
    """46- and 50-slot days: the bound and restriction agree with the plain DP."""
    start = datetime(2021, 3, 27, 17, tzinfo=UTC)
    count = 2 * hours
    prices = [
        round(12 + 9 * ((i * 7) % 11) / 11 - (6 if 14 <= i <= 26 else 0), 2)
        for i in range(count)
    ]
    problem = Problem(
        slots=make_slots(prices, start),
        base_load_kw=0.4,
        import_limit_kw=9.0,
        loads=(
            InterruptibleLoad(
                id="car",
                power_kw=7.0,
                slots=4,
                window=Window(
                    start=start + timedelta(hours=2), end=start + timedelta(hours=14)
                ),
            ),
            Battery(
                id="b",
                capacity_kwh=5.0,
                soc_kwh=2.5,
                min_soc_kwh=0.5,
                charge_kw=2.5,
                discharge_kw=2.5,
                efficiency=0.9,
            ),
        ),
    )
    result = solve_dp(problem)
    assert result.decisions is not None
    assert close(cost_of(problem, result), plain_cost(problem))
    sim = simulate_detail(problem, result.decisions)
    assert limit_excess_kwh(problem, sim.net_import_kwh) == 0


def test_infeasible_base_load_is_named():
    problem = Problem(
        slots=make_slots([5.0, 6.0]),
        base_load_kw=(1.0, 9.0),
        import_limit_kw=4.0,
        loads=(
            InterruptibleLoad(id="car", power_kw=2.0, slots=1),
            Battery(
                id="b", capacity_kwh=2.0, soc_kwh=0.0, charge_kw=1.0, discharge_kw=1.0
            ),
        ),
    )
    with pytest.raises(InfeasibleError, match="base load is 9 kW"):
        solve_dp(problem)
    best = solve_dp(problem, best_effort=True)
    assert excess_of(problem, best) == pytest.approx(2.0)  # (9 - 1 - 4) kW for 0.5 h


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=30),
    st.sampled_from([0, 300]),
    st.integers(0, 2**32 - 1),
)
def test_kept_values_are_below_the_running_minimum_of_their_group(sizes, big, seed):
    """Both ways (padded grid, shifted ranks) agree with a plain loop."""
    if big:  # one large group among small ones: the ranks, not the grid
        sizes = [*sizes, big]
    rng = np.random.default_rng(seed)
    value = rng.integers(-5, 5, sum(sizes)).astype(float)  # ties are likely
    firsts = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    expected = []
    for first, size in zip(firsts, sizes, strict=True):
        least = np.inf
        for v in value[first : first + size]:
            expected.append(bool(v < least - 1e-9))
            least = min(least, v)
    assert dp_module._kept(value, firsts[1:], firsts).tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 2**32 - 1))
def test_sorted_orders_by_key_then_cost_with_the_least_score_first(size, seed):
    rng = np.random.default_rng(seed)
    primary = rng.integers(0, 20, size).astype(float)
    cost = rng.integers(0, 5, size).astype(float)  # many exact ties
    score = rng.integers(0, 9, size).astype(float)
    order = dp_module._sorted(primary, cost, score)
    assert sorted(order.tolist()) == list(range(size))
    pairs = list(zip(primary[order], cost[order], strict=True))
    assert pairs == sorted(pairs)
    expected = np.lexsort((score, cost, primary))
    heads = [0] + [i for i in range(1, size) if pairs[i] != pairs[i - 1]]
    assert score[order[heads]].tolist() == score[expected[heads]].tolist()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium(), st.booleans())
def test_the_battery_alone_matches_the_search(problem, best_effort):
    """The lean battery DP (the first ceiling) agrees with the general search."""
    model = build_model(problem)
    simple = fixed_loads(model, model.prices)
    if simple is None:
        return
    lean = battery_search(simple, best_effort=best_effort, budget=Budget.start())
    full = search(simple, None, best_effort=best_effort)
    assert (lean is None) == (full is None)
    if lean is not None and full is not None:
        assert close(lean.cost, full.cost), (lean.cost, full.cost)
        decisions = dp_module._decisions(simple, lean)
        sim = simulate_detail(problem, decisions)
        weight = 1e6 if best_effort else 0.0
        excess = limit_excess_kwh(problem, sim.net_import_kwh)
        assert close(sim.cost + weight * excess, lean.cost)
