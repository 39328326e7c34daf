"""Property tests: on small horizons no feasible plan beats the planner's."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.hems.planner import (
    Battery,
    BatteryMode,
    CycleLoad,
    InfeasibleError,
    InterruptibleLoad,
    Problem,
    Window,
    plan,
    simulate,
)
from custom_components.hems.planner.milp import solve_milp

from .helpers import T0, assert_feasible, at, brute_force, close, make_slots

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
prices_st = st.one_of(
    st.integers(-5, 30).map(float),  # ties are likely
    st.floats(-10, 40, allow_nan=False).map(lambda p: round(p, 3)),
)


@st.composite
def windows(draw: st.DrawFn, count: int) -> Window | None:
    if draw(st.booleans()):
        return None
    first = draw(st.integers(0, count - 1))
    last = draw(st.integers(first + 1, count))
    shift = timedelta(minutes=draw(st.sampled_from([0, 0, 10])))
    return Window(start=at(first) - shift, end=at(last) + shift)


@st.composite
def problems(draw: st.DrawFn, *, with_battery: bool | None = None) -> Problem:
    has_battery = draw(st.booleans()) if with_battery is None else with_battery
    count = draw(st.integers(1, 4 if has_battery else 6))
    slot_prices = prices_st | st.none() if draw(st.booleans()) else prices_st
    prices = draw(st.lists(slot_prices, min_size=count, max_size=count))
    loads: list = [
        InterruptibleLoad(
            id=f"i{i}",
            power_kw=draw(st.sampled_from([1.0, 2.0, 3.5, 7.0])),
            slots=draw(st.integers(0, count)),
            window=draw(windows(count)),
            max_price=draw(st.none() | prices_st),
            opportunistic_price=draw(st.none() | st.sampled_from([-1.0, 0.0, 5.0])),
        )
        for i in range(draw(st.integers(0, 1 if has_battery else 2)))
    ]
    if draw(st.booleans()):
        length = draw(st.integers(1, min(3, count)))
        loads.append(
            CycleLoad(
                id="c",
                profile_kwh=tuple(
                    draw(
                        st.lists(
                            st.sampled_from([0.0, 0.2, 0.5, 1.0]),
                            min_size=length,
                            max_size=length,
                        )
                    )
                ),
                window=draw(windows(count)),
                max_cost=draw(st.none() | st.sampled_from([0.0, 5.0, 20.0])),
            )
        )
    if has_battery:
        capacity = draw(st.sampled_from([1.0, 2.0, 5.0]))
        soc = draw(st.sampled_from([0.0, 0.3, 1.0])) * capacity
        min_soc = draw(st.sampled_from([0.0, 0.2])) * capacity
        loads.append(
            Battery(
                id="b",
                capacity_kwh=capacity,
                soc_kwh=max(soc, min_soc),  # below its reserve is an input error
                min_soc_kwh=min_soc,
                charge_kw=draw(st.sampled_from([0.0, 1.0, 3.0])),
                discharge_kw=draw(st.sampled_from([0.5, 1.0, 3.0])),
                efficiency=draw(st.sampled_from([1.0, 0.9, 0.75])),
            )
        )
    base = draw(
        st.sampled_from([0.0, 0.4])
        | st.lists(
            st.sampled_from([0.0, 0.3, 1.0, 2.5]), min_size=count, max_size=count
        ).map(tuple)
    )
    return Problem(
        slots=make_slots(prices),
        base_load_kw=base,
        import_limit_kw=draw(st.none() | st.sampled_from([2.0, 4.0, 6.0, 9.0])),
        loads=tuple(loads),
    )


def check_against_oracle(problem: Problem, solver: str) -> None:
    oracle = brute_force(problem)
    if not oracle.feasible:
        with pytest.raises(InfeasibleError) as err:
            plan(problem, solver=solver)
        assert err.value.field == "import_limit_kw"
        best = plan(problem, solver=solver, best_effort=True)
        assert best.limit_violation_kwh == pytest.approx(oracle.excess, abs=1e-6)
        assert any("best effort" in note for note in best.notes)
        return
    result = plan(problem, solver=solver)
    assert_feasible(problem, result.decisions)
    assert close(result.cost, simulate(problem, result.decisions))
    assert close(result.cost, oracle.cost), (result.cost, oracle.cost)
    assert result.limit_violation_kwh == 0
    assert result.optimal
    assert result.gap == 0
    assert result.bound is not None
    assert close(result.bound, result.cost)
    for modes in result.decisions.mode.values():  # the battery holds unpriced
        assert all(
            mode is BatteryMode.CHARGE_ONLY
            for mode, slot in zip(modes, problem.slots, strict=True)
            if slot.price is None
        )


@SETTINGS
@given(problems())
def test_plan_is_feasible_and_optimal(problem):
    check_against_oracle(problem, "auto")


@SETTINGS
@given(problems(with_battery=False))
def test_dp_without_battery_is_optimal(problem):
    check_against_oracle(problem, "dp")


@settings(max_examples=60, deadline=None)
@given(problems())
def test_milp_is_optimal_and_its_objective_is_the_simulated_cost(problem):
    oracle = brute_force(problem)
    if not oracle.feasible:
        with pytest.raises(InfeasibleError):
            solve_milp(problem)
        return
    result = solve_milp(problem)
    assert result.optimal
    assert result.decisions is not None
    assert_feasible(problem, result.decisions)
    simulated = simulate(problem, result.decisions)
    assert close(result.bound, simulated), (result.bound, simulated)
    assert close(simulated, oracle.cost), (simulated, oracle.cost)


@SETTINGS
@given(problems())
def test_planning_is_deterministic(problem):
    try:
        first = plan(problem)
    except InfeasibleError:
        return
    assert plan(problem).decisions == first.decisions


def test_origin_is_the_first_slot():
    assert make_slots([1.0])[0].start == T0
