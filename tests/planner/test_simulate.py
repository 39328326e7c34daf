"""The simulator is the ground truth of the battery semantics."""

import pytest

from custom_components.hems.planner import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
    simulate,
    simulate_detail,
)

from .helpers import make_slots

N, H, F = BatteryMode.NORMAL, BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_CHARGE


def battery(**kw: float) -> Battery:
    args = {"capacity_kwh": 2.0, "soc_kwh": 1.0, "charge_kw": 0.0, "discharge_kw": 10.0}
    args.update(kw)
    return Battery(id="b", **args)


def test_lead_example_greedy_discharge_costs_six_pence():
    # SoC 1 kWh; 10p with demand 0.8 kWh, then 20p with demand 0.5 kWh.
    problem = Problem(
        slots=make_slots([10, 20]), base_load_kw=(1.6, 1.0), loads=(battery(),)
    )
    costs = {
        modes: simulate(problem, Decisions(mode={"b": modes}))
        for modes in [(N, N), (H, N), (N, H), (H, H)]
    }
    assert costs[N, N] == pytest.approx(6.0)
    assert costs[H, N] == pytest.approx(8.0)
    assert costs[H, H] == pytest.approx(18.0)
    assert min(costs.values()) == pytest.approx(6.0)


def test_normal_discharge_is_limited_by_power_min_soc_and_demand():
    load = battery(capacity_kwh=5, soc_kwh=3, min_soc_kwh=1, discharge_kw=1)
    problem = Problem(
        slots=make_slots([10, 10, 10, 10]), base_load_kw=(4, 0.6, 4, 4), loads=(load,)
    )
    sim = simulate_detail(problem, Decisions(mode={"b": (N, N, N, N)}))
    # limited by power (0.5 kWh/slot), then by demand (0.3), then by power again
    assert sim.load_kwh["b"] == pytest.approx((-0.5, -0.3, -0.5, -0.5))
    assert sim.soc_kwh == pytest.approx((3, 2.5, 2.2, 1.7, 1.2))
    assert all(kwh >= 0 for kwh in sim.net_import_kwh)


def test_force_charge_stops_at_capacity_and_counts_losses():
    load = battery(capacity_kwh=2, soc_kwh=1, charge_kw=3, efficiency=0.8)
    problem = Problem(slots=make_slots([5, 5]), loads=(load,))
    sim = simulate_detail(problem, Decisions(mode={"b": (F, F)}))
    assert sim.load_kwh["b"] == pytest.approx((1.25, 0.0))  # room 1 kWh / 0.8
    assert sim.soc_kwh[-1] == pytest.approx(2.0)
    assert sim.cost == pytest.approx(6.25)


def test_soc_below_min_soc_never_discharges():
    load = battery(soc_kwh=0.2, min_soc_kwh=0.5)
    problem = Problem(slots=make_slots([10]), base_load_kw=2, loads=(load,))
    assert simulate(problem, Decisions(mode={"b": (N,)})) == pytest.approx(10.0)


def test_loads_add_to_demand_and_cost():
    problem = Problem(
        slots=make_slots([10, -2, 3]),
        base_load_kw=0.2,
        loads=(
            InterruptibleLoad(id="car", power_kw=4, slots=1),
            CycleLoad(id="dw", profile_kwh=(1.0, 0.5)),
        ),
    )
    decisions = Decisions(on={"car": (False, True, False)}, start={"dw": 1})
    # base 0.1 kWh/slot; car 2 kWh at -2p; dw 1 kWh at -2p and 0.5 at 3p
    expected = 0.1 * 10 + 3.1 * -2 + 0.6 * 3
    assert simulate(problem, decisions) == pytest.approx(expected)


def test_missing_or_bad_decisions_are_rejected():
    problem = Problem(
        slots=make_slots([1, 2]), loads=(CycleLoad(id="dw", profile_kwh=(1.0, 1.0)),)
    )
    with pytest.raises(ValueError, match="missing start"):
        simulate(problem, Decisions())
    with pytest.raises(ValueError, match="out of range"):
        simulate(problem, Decisions(start={"dw": 1}))
