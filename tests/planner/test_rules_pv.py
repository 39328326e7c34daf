"""The simple rules and the house without control, with PV, on a real June day."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.hems.planner.baselines import uncontrolled_decisions
from custom_components.hems.planner.models import (
    Battery,
    BatteryMode,
    InterruptibleLoad,
    Problem,
    Slot,
    Window,
)
from custom_components.hems.planner.price_files import read_prices
from custom_components.hems.planner.pv_profile import read_pv_profile
from custom_components.hems.planner.rules import rule_decisions
from custom_components.hems.planner.simulate import simulate_detail
from tests.conftest import AGILE_CSV_GZ, REPO

START = datetime(2020, 6, 1, 16, tzinfo=UTC)  # 17:00 BST
SLOT = timedelta(minutes=30)
COUNT = 60  # to 23:00 BST the next day


def june_problem(battery: Battery, kwp: float = 6.0) -> Problem:
    prices = read_prices(AGILE_CSV_GZ)
    pv = read_pv_profile(REPO / "tests/fixtures/neso_pv_2020-06-01_2020-06-07.csv")
    starts = [START + n * SLOT for n in range(COUNT)]
    return Problem(
        slots=tuple(Slot(start=s, price=prices[s], export_price=5.5) for s in starts),
        base_load_kw=0.35,
        pv_kw=tuple(kwp * pv[s] for s in starts),
        export_limit_kw=2.0,
        loads=(
            InterruptibleLoad(
                id="car",
                power_kw=7,
                slots=6,
                window=Window(start=START + 2 * SLOT, end=START + 28 * SLOT),
            ),
            InterruptibleLoad(id="immersion", power_kw=3, slots=4),
            battery,
        ),
    )


BATTERY = Battery(
    id="battery",
    capacity_kwh=5,
    soc_kwh=5,
    min_soc_kwh=0.5,
    charge_kw=2.5,
    discharge_kw=2.5,
    efficiency=0.9,
)


def test_pv_surplus_goes_to_the_battery_then_the_immersion() -> None:
    """A sunny day: the immersion runs where the surplus left covers it, on PV."""
    problem = june_problem(BATTERY)
    decisions = rule_decisions(problem)
    sim = simulate_detail(problem, decisions)
    on = decisions.on["immersion"]
    assert sum(on) == 4  # never more than its run
    sunny = [i for i, flag in enumerate(on) if flag and problem.pv_kwh[i] > 1.5]
    assert sunny  # 6 kWp in June: a full battery leaves enough for 3 kW
    for i in sunny:
        assert sim.import_kwh[i] == 0
    # the 7 kW car cannot run on the surplus: cheapest slots of its window
    car = [i for i, flag in enumerate(decisions.on["car"]) if flag]
    window = range(2, 28)
    cheapest = sorted(window, key=lambda i: (problem.prices[i], i))[:6]
    assert car == sorted(cheapest)


def test_without_sun_the_loads_take_their_cheapest_slots() -> None:
    problem = june_problem(BATTERY, kwp=0.0)
    on = rule_decisions(problem).on["immersion"]
    chosen = [i for i, flag in enumerate(on) if flag]
    cheapest = sorted(range(COUNT), key=lambda i: (problem.prices[i], i))[:4]
    assert chosen == sorted(cheapest)


@pytest.mark.parametrize("decide", [rule_decisions, uncontrolled_decisions])
def test_a_power_battery_does_what_the_modes_would(decide: object) -> None:
    """The setpoints that emulate a mode give the mode's flows, slot by slot."""
    battery = replace(BATTERY, soc_kwh=1.0)
    by_modes = june_problem(battery)
    by_power = june_problem(replace(battery, control="power"))
    assert callable(decide)
    modes = simulate_detail(by_modes, decide(by_modes))
    power_decisions = decide(by_power)
    assert set(power_decisions.power) == {"battery"}
    assert not power_decisions.mode
    power = simulate_detail(by_power, power_decisions)
    assert power.import_kwh == pytest.approx(modes.import_kwh)
    assert power.export_kwh == pytest.approx(modes.export_kwh)
    assert power.soc_kwh == pytest.approx(modes.soc_kwh)
    assert power.cost == pytest.approx(modes.cost)


def test_the_rules_use_only_the_modes_the_battery_offers() -> None:
    battery = replace(
        BATTERY, soc_kwh=1.0, modes=(BatteryMode.NORMAL, BatteryMode.CHARGE_ONLY)
    )
    problem = june_problem(battery)
    modes = rule_decisions(problem).mode["battery"]
    assert BatteryMode.FORCE_CHARGE not in modes
    assert BatteryMode.NORMAL in modes
    simulate_detail(problem, rule_decisions(problem))  # valid decisions
    full = rule_decisions(june_problem(replace(BATTERY, soc_kwh=1.0))).mode["battery"]
    assert BatteryMode.FORCE_CHARGE in full


def test_without_control_loads_start_as_soon_as_allowed() -> None:
    problem = june_problem(replace(BATTERY, soc_kwh=1.0))
    decisions = uncontrolled_decisions(problem)
    car = [i for i, flag in enumerate(decisions.on["car"]) if flag]
    assert car == list(range(2, 8))
    assert [i for i, f in enumerate(decisions.on["immersion"]) if f] == [0, 1, 2, 3]
    assert set(decisions.mode["battery"]) == {BatteryMode.NORMAL}
    sim = simulate_detail(problem, decisions)
    # self-consumption: never charged from the grid, never exported from it
    for i, flow in enumerate(sim.load_kwh["battery"]):
        if flow > 0:
            assert flow <= problem.pv_kwh[i] + 1e-9
        assert sim.import_kwh[i] == 0 or sim.export_kwh[i] == 0
