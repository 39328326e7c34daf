"""The exact planner with PV, export prices, an export limit and every battery mode.

References: brute force over every mode sequence and load choice (small
horizons) and the plain DP of the helpers (medium ones), both built on the
simulator, which is the ground truth.
"""

from dataclasses import replace

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.hems.planner import (
    Battery,
    BatteryMode,
    CycleLoad,
    InfeasibleError,
    InterruptibleLoad,
    Problem,
    Slot,
    plan,
)
from custom_components.hems.planner.budget import Budget
from custom_components.hems.planner.dp import (
    battery_search,
    build_model,
    fixed_loads,
    quick_bound,
    restrict,
    search,
    solve_dp,
)
from custom_components.hems.planner.feasibility import limit_excess_kwh, violations
from custom_components.hems.planner.lpbound import Bound, lp_multipliers
from custom_components.hems.planner.setpoints import as_setpoints
from custom_components.hems.planner.simulate import simulate, simulate_detail

from .helpers import all_decisions, at, brute_force, close, plain_dp
from .test_budget import CountedBudget

INF = float("inf")
SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
}
prices_st = st.one_of(
    st.integers(-5, 35).map(float),
    st.floats(-8, 40, allow_nan=False).map(lambda p: round(p, 2)),
)
MODE_SETS = [
    (BatteryMode.NORMAL, BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_CHARGE),
    tuple(BatteryMode),
    (BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_DISCHARGE),
    (BatteryMode.NORMAL, BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_DISCHARGE),
    (BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_CHARGE),
]


@st.composite
def sunny(
    draw: st.DrawFn,
    *,
    max_slots: int,
    max_loads: int = 2,
    battery: bool | None = None,
    unpriced: bool = True,
) -> Problem:
    """PV from none to more than every load, export prices (some above import)."""
    count = draw(st.integers(2, max_slots))
    prices: list[float | None] = draw(
        st.lists(
            prices_st | st.none() if unpriced and draw(st.booleans()) else prices_st,
            min_size=count,
            max_size=count,
        )
    )
    exports = draw(
        st.lists(
            st.none() | st.sampled_from([0.0, 4.0, 15.0, 50.0, -3.0]) | prices_st,
            min_size=count,
            max_size=count,
        )
    )
    slots = tuple(
        Slot(start=at(i), price=p, export_price=e)
        for i, (p, e) in enumerate(zip(prices, exports, strict=True))
    )
    pv = draw(
        st.sampled_from([0.0, 1.0, 12.0])
        | st.lists(
            st.sampled_from([0.0, 0.5, 2.0, 4.5, 12.0]), min_size=count, max_size=count
        ).map(tuple)
    )
    loads: list = []
    for i in range(draw(st.integers(0, max_loads))):
        if draw(st.booleans()):
            loads.append(
                InterruptibleLoad(
                    id=f"i{i}",
                    power_kw=draw(st.sampled_from([1.0, 3.0, 7.0])),
                    slots=draw(st.integers(1, 2)),
                    max_price=draw(st.none() | st.sampled_from([5.0, 15.0])),
                    opportunistic_price=draw(st.none() | st.sampled_from([0.0])),
                )
            )
        else:
            loads.append(
                CycleLoad(
                    id=f"c{i}",
                    profile_kwh=tuple(
                        draw(
                            st.lists(
                                st.sampled_from([0.2, 0.9, 1.5]), min_size=1, max_size=2
                            )
                        )
                    ),
                    max_cost=draw(st.none() | st.sampled_from([10.0])),
                )
            )
    if battery if battery is not None else draw(st.booleans()):
        capacity = draw(st.sampled_from([2.0, 5.0]))
        soc = draw(st.sampled_from([0.0, 0.5, 1.0])) * capacity
        loads.append(
            Battery(
                id="b",
                capacity_kwh=capacity,
                soc_kwh=soc,
                min_soc_kwh=min(soc, draw(st.sampled_from([0.0, 0.2])) * capacity),
                charge_kw=draw(st.sampled_from([1.0, 3.0])),
                discharge_kw=draw(st.sampled_from([0.5, 3.0])),
                efficiency=draw(st.sampled_from([1.0, 0.9])),
                modes=draw(st.sampled_from(MODE_SETS)),
            )
        )
    return Problem(
        slots=slots,
        base_load_kw=draw(st.sampled_from([0.0, 0.4, 1.5])),
        import_limit_kw=draw(st.none() | st.sampled_from([4.0, 9.0])),
        export_limit_kw=draw(st.none() | st.sampled_from([0.0, 1.0, 3.0])),
        pv_kw=pv,
        loads=tuple(loads),
    )


def _assert_proven(problem: Problem, result_cost: float, reference: float) -> None:
    assert close(result_cost, reference), (result_cost, reference, problem)


@settings(max_examples=300, **SETTINGS)
@given(sunny(max_slots=4))
def test_plan_matches_brute_force(problem):
    """Every small plan is the exact optimum, proven (bound == cost)."""
    oracle = brute_force(problem)
    if not oracle.feasible:
        with pytest.raises(InfeasibleError):
            plan(problem)
        best = plan(problem, best_effort=True)
        assert close(best.limit_violation_kwh, oracle.excess)
        return
    result = plan(problem)
    assert not violations(problem, result.decisions)
    assert result.optimal, result.notes
    _assert_proven(problem, result.cost, oracle.cost)
    assert result.bound is not None
    assert close(result.bound, result.cost)
    sim = simulate_detail(problem, result.decisions)
    assert result.import_kwh == sim.import_kwh
    assert result.export_kwh == sim.export_kwh
    assert result.curtailed_kwh == sim.curtailed_kwh


@settings(max_examples=200, **SETTINGS)
@given(sunny(max_slots=9, max_loads=3, battery=True), st.booleans())
def test_search_matches_the_plain_dp(problem, best_effort):
    reference = plain_dp(problem, best_effort=best_effort)
    if reference is None:
        with pytest.raises(InfeasibleError):
            solve_dp(problem)
        return
    result = solve_dp(problem, best_effort=best_effort)
    assert result.optimal
    assert result.decisions is not None
    sim = simulate_detail(problem, result.decisions)
    weight = 1e6 if result.weighted else 0.0
    found = sim.cost + weight * limit_excess_kwh(problem, sim.net_import_kwh)
    if result.weighted:  # best effort was needed: the plain DP weighs the same
        assert close(found, reference, 1e-9)
    else:
        _assert_proven(problem, found, reference)
    assert close(result.bound, found)


@settings(max_examples=150, **SETTINGS)
@given(sunny(max_slots=8, max_loads=3, battery=True), st.floats(0.0, 3.0))
def test_bounds_hold_and_every_ceiling_finds_the_optimum(problem, extra):
    """LP bound and quick bound below the optimum; restriction loses nothing."""
    reference = plain_dp(problem)
    if reference is None:
        return
    assert quick_bound(problem) <= reference + 1e-6
    model = build_model(problem)
    mult = lp_multipliers(model, best_effort=False)
    assert mult is not None
    bound = Bound(model, mult)
    root = (0,) * (len(model.runners) + len(model.cycles))
    low = bound.loads(0, root) + bound.battery(0, model.soc0)
    assert low <= reference + 1e-6
    ceiling = reference + extra
    narrow = restrict(model, bound, ceiling)
    best = search(narrow, Bound(narrow, mult), best_effort=False, ceiling=ceiling)
    assert best is not None
    assert close(best.cost, reference)


@settings(max_examples=150, **SETTINGS)
@given(sunny(max_slots=8, battery=True), st.booleans())
def test_the_battery_alone_matches_the_search(problem, best_effort):
    model = build_model(problem)
    simple = fixed_loads(model, model.prices)
    if simple is None:
        return
    lean = battery_search(simple, best_effort=best_effort, budget=Budget.start())
    full = search(simple, None, best_effort=best_effort)
    assert (lean is None) == (full is None)
    if lean is not None and full is not None:
        assert close(lean.cost, full.cost)


@settings(max_examples=150, **SETTINGS)
@given(sunny(max_slots=5, battery=False, unpriced=False))
def test_loads_sharing_the_sun_without_a_battery(problem):
    """Without a battery the PV surplus couples the loads: still exact."""
    oracle = brute_force(problem)
    if not oracle.feasible:
        return
    result = plan(problem)
    assert result.optimal
    _assert_proven(problem, result.cost, oracle.cost)


def _battery(**kw: object) -> Battery:
    defaults: dict[str, object] = {
        "id": "b",
        "capacity_kwh": 5.0,
        "soc_kwh": 5.0,
        "charge_kw": 2.5,
        "discharge_kw": 2.5,
        "modes": tuple(BatteryMode),
    }
    defaults.update(kw)
    return Battery(**defaults)  # type: ignore[arg-type]


def _problem(prices, exports, **kw: object) -> Problem:
    slots = tuple(
        Slot(start=at(i), price=p, export_price=e)
        for i, (p, e) in enumerate(zip(prices, exports, strict=True))
    )
    return Problem(slots=slots, **kw)  # type: ignore[arg-type]


def test_battery_sells_when_export_pays_more_than_it_costs_later():
    problem = _problem(
        [10.0, 10.0, 10.0], [30.0, 5.0, 5.0], loads=(_battery(),), base_load_kw=0.0
    )
    result = plan(problem)
    assert result.decisions.mode["b"][0] is BatteryMode.FORCE_DISCHARGE
    # 2.5 kW for half an hour in each slot: the energy left is worth nothing
    assert result.cost == pytest.approx(-30.0 * 1.25 - 2 * 5.0 * 1.25)
    assert result.export_kwh == pytest.approx((1.25, 1.25, 1.25))
    assert result.optimal
    assert "battery sells" in result.sun


def test_export_limit_caps_force_discharge_and_curtails_pv():
    problem = _problem(
        [10.0, 10.0],
        [30.0, 30.0],
        loads=(_battery(),),
        pv_kw=(4.0, 0.0),
        export_limit_kw=1.0,
    )
    result = plan(problem)
    # slot 0: 2 kWh of PV, 0.5 exported, the rest curtailed (the battery is full)
    assert result.export_kwh[0] == pytest.approx(0.5)
    assert result.curtailed_kwh[0] == pytest.approx(1.5)
    assert result.export_kwh[1] == pytest.approx(0.5)  # the battery sells to the cap
    assert result.cost == pytest.approx(-30.0)
    assert close(result.cost, brute_force(problem).cost)


def test_negative_import_with_paid_export_charges_from_the_grid():
    problem = _problem(
        [-5.0, 20.0],
        [4.0, 4.0],
        loads=(_battery(soc_kwh=0.0),),
        pv_kw=(3.0, 0.0),
        base_load_kw=1.0,
    )
    result = plan(problem)
    oracle = brute_force(problem)
    assert close(result.cost, oracle.cost)
    assert result.decisions.mode["b"][0] is BatteryMode.FORCE_CHARGE
    assert result.optimal


def test_immersion_runs_on_pv_surplus_and_the_sun_says_so():
    problem = _problem(
        [20.0] * 4,
        [5.0] * 4,
        pv_kw=(0.0, 3.5, 3.5, 0.0),
        base_load_kw=0.5,
        loads=(InterruptibleLoad(id="hot water", power_kw=3.0, slots=2),),
    )
    result = plan(problem)
    assert result.decisions.on["hot water"] == (False, True, True, False)
    assert result.cost == pytest.approx(0.5 * 0.5 * 20 * 2)
    assert "hot water" in result.sun
    assert "PV" in result.explain["hot water"].summary
    assert result.optimal


def test_unpriced_slots_hold_the_battery_but_it_keeps_the_pv_surplus():
    problem = _problem(
        [None, 30.0],
        [None, 0.0],
        pv_kw=(4.0, 0.0),
        base_load_kw=1.0,
        loads=(_battery(soc_kwh=0.0),),
    )
    result = plan(problem)
    assert result.soc_kwh[1] == pytest.approx(1.25)  # charge rate over the slot
    assert result.cost == pytest.approx(0.0)  # slot 1's 0.5 kWh from the battery
    assert result.optimal


def test_a_problem_without_sun_or_export_is_unchanged():
    base = _problem(
        [10.0, 2.0, 30.0],
        [None] * 3,
        loads=(_battery(soc_kwh=0.0, modes=MODE_SETS[0]),),
        base_load_kw=1.0,
    )
    with_zero = replace(base, pv_kw=(0.0, 0.0, 0.0), export_limit_kw=3.0)
    first, second = plan(base), plan(with_zero)
    assert first.cost == second.cost == simulate(base, first.decisions)
    assert first.sun == second.sun == ""


@st.composite
def powered(draw: st.DrawFn) -> tuple[Problem, list[tuple[float, ...]]]:
    """Draw a small problem with a power-controlled battery, and random setpoints."""
    problem = draw(sunny(max_slots=4, battery=True))
    battery = next(x for x in problem.loads if isinstance(x, Battery))
    power = replace(battery, control="power", modes=MODE_SETS[0])
    problem = replace(
        problem,
        loads=tuple(power if x is battery else x for x in problem.loads),
    )
    count = len(problem.slots)
    setpoints = draw(
        st.lists(
            st.lists(
                st.floats(-power.discharge_kw, power.charge_kw),
                min_size=count,
                max_size=count,
            ).map(tuple),
            min_size=1,
            max_size=8,
        )
    )
    return problem, setpoints


@settings(max_examples=120, **SETTINGS)
@given(powered())
def test_power_control_starts_from_the_best_mode_plan(case):
    """The best mode plan as setpoints; its bound holds for any setpoints."""
    problem, setpoints = case
    battery = next(x for x in problem.loads if isinstance(x, Battery))
    modes = replace(battery, control="modes", modes=tuple(BatteryMode))
    twin = replace(
        problem, loads=tuple(modes if x is battery else x for x in problem.loads)
    )
    best_by_modes = INF
    for decisions in all_decisions(twin):
        steered = as_setpoints(problem, decisions)
        sim = simulate_detail(problem, steered)
        if limit_excess_kwh(problem, sim.net_import_kwh) <= 1e-9:
            best_by_modes = min(best_by_modes, sim.cost)
    try:
        found = solve_dp(problem)
    except InfeasibleError:
        assert best_by_modes == INF
        return
    assert found.decisions is not None
    assert battery.id in found.decisions.power
    assert close(simulate(problem, found.decisions), best_by_modes)
    result = plan(problem)
    assert result.cost <= best_by_modes + 1e-6
    assert result.bound is not None
    if result.optimal:
        assert close(result.bound, result.cost)
    for row in setpoints:  # any plan: the loads where the DP put them
        other = replace(found.decisions, power={battery.id: row})
        sim = simulate_detail(problem, other)
        if limit_excess_kwh(problem, sim.net_import_kwh) <= 1e-9:
            assert result.bound <= sim.cost + 1e-6


@settings(max_examples=60, **SETTINGS)
@given(sunny(max_slots=8, max_loads=3, battery=True), st.integers(1, 30))
def test_a_stopped_search_proves_a_bound_below_the_optimum(problem, checks):
    """Stopped after a few budget checks: a plan, and a bound <= the optimum."""
    reference = plain_dp(problem)
    if reference is None:
        return
    stopped = solve_dp(problem, budget=CountedBudget(checks))
    assert stopped.bound <= reference + 1e-6
    if stopped.decisions is not None:
        sim = simulate_detail(problem, stopped.decisions)
        if limit_excess_kwh(problem, sim.net_import_kwh) <= 1e-9:
            assert sim.cost >= reference - 1e-6
