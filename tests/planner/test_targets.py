"""Per-slot import caps (turn-down) and import targets (turn-up), planned exactly.

``Slot.max_import_kw`` and ``Slot.min_import_kw`` are targets: each kWh of
net import above the one or below the other adds ``TARGET_WEIGHT`` (100 p) to
every plan's objective; the site's limit stays hard (or best effort).
References: brute force over every mode sequence and load choice on the simulator.
"""

from dataclasses import replace
import json

from hypothesis import HealthCheck, event, given, settings, strategies as st
import pytest

from custom_components.hems.planner import (
    Battery,
    InfeasibleError,
    InterruptibleLoad,
    Problem,
    ProblemError,
    Slot,
    plan,
)
from custom_components.hems.planner.feasibility import (
    import_excess_kwh,
    import_shortfall_kwh,
    limit_excess_kwh,
    target_miss_kwh,
    violations,
)
from custom_components.hems.planner.outcome import EXCESS_WEIGHT, TARGET_WEIGHT
from custom_components.hems.planner.problem_io import (
    parse_problem,
    plan_to_json,
    problem_to_json,
)
from custom_components.hems.planner.simulate import simulate_detail

from .helpers import all_decisions, at, close
from .test_dp_pv import sunny

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@st.composite
def with_targets(draw: st.DrawFn, *, max_slots: int, battery: bool | None = None):
    """Draw a sunny problem with caps and targets on some slots."""
    problem = draw(sunny(max_slots=max_slots, battery=battery))
    site = problem.import_limit_kw
    slots = []
    for slot in problem.slots:
        cap = draw(st.none() | st.sampled_from([0.0, 0.5, 2.0, 5.0]))
        top = min(x for x in (cap, site, 99.0) if x is not None)
        floor = draw(st.none() | st.sampled_from([0.0, 1.0, 3.0, 8.0]))
        slots.append(
            replace(
                slot,
                max_import_kw=cap,
                min_import_kw=None if floor is None else min(floor, top),
            )
        )
    return replace(problem, slots=tuple(slots))


def objective(problem: Problem, decisions, *, weighted: bool) -> tuple[float, float]:
    """(excess above the limit, cost + weighted miss [+ weighted excess])."""
    sim = simulate_detail(problem, decisions)
    excess = limit_excess_kwh(problem, sim.net_import_kwh)
    miss = target_miss_kwh(problem, sim)
    extra = excess if weighted else 0.0
    return excess, sim.cost + TARGET_WEIGHT * miss + EXCESS_WEIGHT * extra


def oracle(problem: Problem) -> tuple[bool, float]:
    """Whether some plan is within the limit, and the least objective."""
    feasible = float("inf")
    weighted = float("inf")
    for decisions in all_decisions(problem):
        excess, value = objective(problem, decisions, weighted=False)
        if excess <= 1e-9:
            feasible = min(feasible, value)
        weighted = min(weighted, value + EXCESS_WEIGHT * excess)
    if feasible < float("inf"):
        return True, feasible
    return False, weighted


@settings(max_examples=300, **SETTINGS)
@given(with_targets(max_slots=4), st.sampled_from(["auto", "dp", "milp"]))
def test_plans_with_caps_and_targets_match_brute_force(problem, solver):
    feasible, best = oracle(problem)
    event("infeasible limit" if not feasible else "within the limit")
    if not feasible:
        with pytest.raises(InfeasibleError):
            plan(problem, solver=solver)
    result = plan(problem, solver=solver, best_effort=not feasible)
    assert result.optimal, result.notes
    _, found = objective(problem, result.decisions, weighted=not feasible)
    assert close(found, best, 1e-7), (found, best, problem)
    if feasible:
        assert not violations(problem, result.decisions)
        assert result.limit_violation_kwh == 0.0
    sim = simulate_detail(problem, result.decisions)
    event("short of a minimum" if result.import_shortfall_kwh else "minimums met")
    event("above a cap" if result.import_excess_kwh else "caps met")
    assert close(result.import_shortfall_kwh, import_shortfall_kwh(problem, sim))
    assert close(result.import_excess_kwh, import_excess_kwh(problem, sim))
    assert (result.import_shortfall_kwh > 0) == any(
        "import minimums" in note for note in result.notes
    )
    assert (result.import_excess_kwh > 0) == any(
        "import caps" in note for note in result.notes
    )


def evening(count: int = 8) -> tuple[Slot, ...]:
    """Slots 17:00-21:00 UTC, dearest in the middle (an Agile evening)."""
    prices = [18.0, 22.0, 30.0, 35.0, 34.0, 28.0, 20.0, 16.0][:count]
    return tuple(
        Slot(start=at(i), price=p, export_price=15.0) for i, p in enumerate(prices)
    )


def capped(slots: tuple[Slot, ...], window: range, kw: float) -> tuple[Slot, ...]:
    return tuple(
        replace(s, max_import_kw=kw) if i in window else s for i, s in enumerate(slots)
    )


def targeted(slots: tuple[Slot, ...], window: range, kw: float) -> tuple[Slot, ...]:
    return tuple(
        replace(s, min_import_kw=kw) if i in window else s for i, s in enumerate(slots)
    )


def battery(**changes: object) -> Battery:
    values: dict[str, object] = {
        "id": "battery",
        "capacity_kwh": 4.0,
        "soc_kwh": 2.0,
        "charge_kw": 2.0,
        "discharge_kw": 2.0,
        "efficiency": 0.9,
    }
    values.update(changes)
    return Battery(**values)  # type: ignore[arg-type]


def test_a_turn_down_cap_moves_the_car_out_of_the_window():
    car = InterruptibleLoad(id="car", power_kw=7.0, slots=2)
    slots = tuple(
        Slot(start=at(i), price=p)
        for i, p in enumerate([5.0, 5.0, 9.0, 9.0, 12.0, 12.0])
    )
    free = plan(Problem(slots=slots, base_load_kw=0.4, loads=(car,)))
    assert free.decisions.on["car"] == (True, True, False, False, False, False)
    down = plan(
        Problem(slots=capped(slots, range(2), 1.0), base_load_kw=0.4, loads=(car,))
    )
    assert down.decisions.on["car"] == (False, False, True, True, False, False)
    assert all(kw <= 1.0 + 1e-9 for kw in down.net_import_kw[:2])
    assert down.cost == pytest.approx(free.cost + 7.0 * 0.5 * 2 * (9.0 - 5.0))


def test_a_turn_down_cap_discharges_the_battery_in_the_window():
    slots = capped(evening(), range(2, 5), 0.0 + 0.1)
    result = plan(Problem(slots=slots, base_load_kw=1.5, loads=(battery(soc_kwh=1.0),)))
    assert result.optimal
    assert all(kw <= 0.1 + 1e-9 for kw in result.net_import_kw[2:5])
    # 1.4 kW x 1.5 h comes from the battery: it charged to 2.1 kWh before
    assert result.soc_kwh[2] >= 3 * 1.4 * 0.5 - 1e-9  # [0]: the initial SoC


def test_a_cap_nothing_can_meet_is_reported_not_refused():
    slots = capped(evening(4), range(1, 2), 0.2)
    result = plan(Problem(slots=slots, base_load_kw=1.0))
    assert result.optimal
    assert result.limit_violation_kwh == 0.0
    assert result.import_excess_kwh == pytest.approx(0.4)
    assert "the import caps cannot all be met: 0.400 kWh above them" in result.notes


@pytest.mark.parametrize("dearer", [60.0, 140.0])
def test_a_cap_is_met_where_a_kwh_costs_less_than_its_weight(dearer):
    """The car avoids a capped slot unless the other costs 100 p/kWh more."""
    car = InterruptibleLoad(id="car", power_kw=2.0, slots=1)
    slots = (
        Slot(start=at(0), price=10.0, max_import_kw=0.0),
        Slot(start=at(1), price=10.0 + dearer),
    )
    result = plan(Problem(slots=slots, loads=(car,)))
    met = dearer < TARGET_WEIGHT
    assert result.decisions.on["car"] == ((False, True) if met else (True, False))
    assert result.import_excess_kwh == pytest.approx(0.0 if met else 1.0)


def test_a_turn_up_target_charges_the_battery_in_the_window():
    """Free electricity 18:00-19:00 asking for at least 2 kW: the battery fills."""
    slots = tuple(
        replace(s, price=0.0) if i in {2, 3} else s for i, s in enumerate(evening())
    )
    up = targeted(slots, range(2, 4), 2.0)
    result = plan(Problem(slots=up, base_load_kw=0.3, loads=(battery(soc_kwh=2.0),)))
    assert result.optimal
    assert result.import_shortfall_kwh == 0.0
    assert all(kw >= 2.0 - 1e-9 for kw in result.net_import_kw[2:4])
    # the battery serves the dear house load before, and refills for free
    assert result.soc_kwh[2] < 2.0  # [0]: the initial SoC
    assert result.soc_kwh[4] > result.soc_kwh[2] + 1.5


def test_a_target_nothing_can_meet_is_reported_not_refused():
    slots = targeted(evening(4), range(1, 3), 3.0)
    result = plan(Problem(slots=slots, base_load_kw=0.5))
    assert result.optimal
    assert result.import_shortfall_kwh == pytest.approx(2 * 2.5 * 0.5)
    assert any("import minimums cannot all be met" in n for n in result.notes)


def test_a_target_runs_the_car_in_the_window_when_a_dearer_slot_meets_it():
    car = InterruptibleLoad(id="car", power_kw=7.0, slots=1)
    slots = tuple(Slot(start=at(i), price=p) for i, p in enumerate([4.0, 6.0, 8.0]))
    result = plan(Problem(slots=targeted(slots, range(2, 3), 5.0), loads=(car,)))
    assert result.decisions.on["car"] == (False, False, True)
    assert result.import_shortfall_kwh == 0.0


@pytest.mark.parametrize("price", [60.0, 140.0])
def test_a_target_is_met_where_a_kwh_costs_less_than_its_weight(price):
    """Charging the battery at ``price`` to meet the target, then it is wasted."""
    slots = (Slot(start=at(0), price=price, min_import_kw=2.0),)
    problem = Problem(slots=slots, loads=(battery(soc_kwh=0.0),))
    result = plan(problem)
    met = price < TARGET_WEIGHT
    assert result.decisions.mode["battery"][0] == ("force_charge" if met else "normal")
    assert result.import_shortfall_kwh == pytest.approx(0.0 if met else 1.0)
    assert result.cost == pytest.approx(price * 1.0 if met else 0.0)


@pytest.mark.parametrize("solver", ["dp", "milp"])
def test_power_control_meets_a_target_with_setpoints(solver):
    slots = targeted(evening(), range(5, 7), 2.5)
    result = plan(
        Problem(slots=slots, base_load_kw=0.5, loads=(battery(control="power"),)),
        solver=solver,
    )
    assert result.import_shortfall_kwh == pytest.approx(0.0, abs=1e-6)
    assert all(kw >= 2.5 - 1e-6 for kw in result.net_import_kw[5:7])
    if solver == "milp":
        assert result.optimal


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"max_import_kw": -0.5}, "slots[1].max_import_kw", "must be >= 0"),
        ({"min_import_kw": -1.0}, "slots[1].min_import_kw", "must be >= 0"),
        (
            {"max_import_kw": 2.0, "min_import_kw": 3.0},
            "slots[1].min_import_kw",
            "3 kW is above its max_import_kw (2 kW)",
        ),
        (
            {"min_import_kw": 12.0},
            "slots[1].min_import_kw",
            "12 kW is above the import limit (10 kW)",
        ),
        ({"min_import_kw": float("nan")}, "slots[1].min_import_kw", "finite"),
    ],
)
def test_bad_caps_and_targets_name_their_slot(change, field, reason):
    slots = list(evening(3))
    slots[1] = replace(slots[1], **change)
    with pytest.raises(ProblemError) as caught:
        plan(Problem(slots=tuple(slots), import_limit_kw=10.0))
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_caps_and_targets_go_through_the_json_files():
    slots = targeted(capped(evening(4), range(1), 1.5), range(2, 3), 2.0)
    problem = Problem(slots=slots, base_load_kw=0.5)
    data = problem_to_json(problem)
    assert data["slots"][0]["max_import_kw"] == 1.5
    assert data["slots"][2]["min_import_kw"] == 2.0
    assert "min_import_kw" not in data["slots"][0]
    again = parse_problem(json.loads(json.dumps(data)))
    assert again == problem
    out = plan_to_json(plan(again))
    assert out["explain"]["plan"]["import_shortfall_kwh"] == pytest.approx(0.75)
    with pytest.raises(ProblemError, match=r"slots\[0\].min_import_kw"):
        parse_problem({**data, "slots": [{**data["slots"][0], "min_import_kw": "x"}]})
