"""The backtest with PV and export on real days: balances, limits, exactness.

Real Agile region A prices of June 2020 (``demo/``) and the real GB embedded
PV outturn of the same week (``tests/fixtures``), scaled to a 6 kWp array
behind a 2 kW export limit, exported at a fixed 5.5 p/kWh.
"""

import csv
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.hems.planner.backtest import DayResult, Sources, replay
from custom_components.hems.planner.household import Household, parse_household
from custom_components.hems.planner.price_files import read_prices
from tests.conftest import AGILE_CSV_GZ, PROFILES_CSV, REPO

FIXTURES = REPO / "tests" / "fixtures"
JUNE_PV = FIXTURES / "neso_pv_2020-06-01_2020-06-07.csv"
MARCH_PV = FIXTURES / "neso_2020-03-01_2020-04-05.csv"
EXPORT_LIMIT_KW = 2.0
KWP = 6.0
TOLERANCE = 1e-6
SLOT = timedelta(minutes=30)

HOUSEHOLD: dict[str, Any] = {
    "flat_price": 24.5,
    "flat_export_price": 5.5,
    "base_load_kw": 0.35,
    "export_price": 5.5,
    "export_limit_kw": EXPORT_LIMIT_KW,
    "pv": {"kwp": KWP, "profile": str(JUNE_PV)},
    "profiles": str(PROFILES_CSV),
    "loads": [
        {
            "id": "car",
            "type": "interruptible",
            "power_kw": 7,
            "hours": 3,
            "window": {"start": "18:00", "end": "07:00"},
        },
        {"id": "immersion", "type": "interruptible", "power_kw": 3, "hours": 2},
        {
            "id": "dishwasher",
            "type": "cycle",
            "profile": "DW_0927Wh_LO_7709s_MI_MI",
            "window": {"start": "19:00", "end": "07:00"},
        },
        {
            "id": "battery",
            "type": "battery",
            "capacity_kwh": 5,
            "soc_kwh": 2.5,
            "min_soc_kwh": 0.5,
            "charge_kw": 2.5,
            "discharge_kw": 2.5,
            "efficiency": 0.9,
        },
    ],
}


@cache
def prices() -> dict[datetime, float]:
    return read_prices(AGILE_CSV_GZ)


def household(**changes: Any) -> Household:
    data = HOUSEHOLD | changes
    return parse_household(yaml.safe_load(yaml.safe_dump(data)), base_dir=REPO)


@cache
def june() -> tuple[DayResult, ...]:
    days = replay(household(), prices(), date(2020, 6, 1), date(2020, 6, 2))
    return tuple(days)


def neso_kw_per_kwp(path: Path) -> dict[datetime, float]:
    """Read the fixture on its own: generation / capacity per UTC start."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            datetime.fromisoformat(row["interval_start_utc"]).astimezone(UTC): float(
                row["embedded_solar_generation_mw"]
            )
            / float(row["embedded_solar_capacity_mw"])
            for row in csv.DictReader(handle)
        }


def test_every_june_day_is_replayed_with_sun_export_and_curtailment() -> None:
    days = june()
    assert [d.day for d in days] == [date(2020, 6, 1), date(2020, 6, 2)]
    assert all(d.hems.pv_kwh > 5 for d in days)
    assert all(d.hems.export_kwh > 0 for d in days)
    assert sum(d.hems.curtailed_kwh for d in days) > 0.5
    assert all(d.optimal for d in days)


@pytest.mark.parametrize("strategy", ["hems", "rules", "no_control"])
def test_energy_balance_every_day(strategy: str) -> None:
    """Import - export = demand + stored + losses - PV used, and the SoC chains."""
    soc = 2.5
    for day in june():
        b = getattr(day, strategy)
        used_pv = b.pv_kwh - b.curtailed_kwh
        balance = b.demand_kwh + b.soc_change_kwh + b.battery_loss_kwh - used_pv
        assert b.import_kwh - b.export_kwh == pytest.approx(balance, abs=1e-6)
        assert soc + b.soc_change_kwh == pytest.approx(day.soc_end[strategy])
        soc = day.soc_end[strategy]
        assert 0 <= b.self_consumed_kwh <= b.pv_kwh + TOLERANCE
        assert b.self_consumed_kwh + b.curtailed_kwh <= b.pv_kwh + TOLERANCE
        assert b.demand_kwh > 0.35 * 24 + 21  # base, car 21 kWh, immersion, cycle


def test_pv_is_the_outturn_scaled_to_the_array() -> None:
    """Each day's PV = the fixture's generation / capacity x kWp (17:00 BST on)."""
    per_kwp = neso_kw_per_kwp(JUNE_PV)
    for day in june():
        start = datetime.combine(day.day, time(16), UTC)
        expected = [KWP * per_kwp[start + n * SLOT] for n in range(48)]
        assert day.pv_kw == pytest.approx(expected)
        assert day.hems.pv_kwh == pytest.approx(0.5 * sum(expected))


def test_export_never_above_the_limit_and_curtailed_only_at_it() -> None:
    for day in june():
        assert max(day.hems_export_kw) <= EXPORT_LIMIT_KW + TOLERANCE
        for export, curtailed in zip(
            day.hems_export_kw, day.hems_curtailed_kw, strict=True
        ):
            if curtailed > TOLERANCE:
                assert export == pytest.approx(EXPORT_LIMIT_KW)


def test_hems_is_never_beaten_over_its_horizon() -> None:
    """From the same SoC, over the day's planning horizon, hems is exact."""
    for day in june():
        assert day.horizon["hems"] <= day.horizon["rules"] + TOLERANCE
        assert day.horizon["hems"] <= day.horizon["no_control"] + TOLERANCE


def test_hems_books_less_than_rules_and_no_control_in_total() -> None:
    days = june()
    hems = sum(d.hems.cost for d in days)
    assert hems <= sum(d.rules.cost for d in days)
    assert hems < sum(d.no_control.cost for d in days)


def test_costs_are_the_prices_times_the_energies() -> None:
    for day in june():
        for b in (day.hems, day.rules, day.no_control):
            assert b.export_revenue == pytest.approx(5.5 * b.export_kwh)
            assert b.cost == pytest.approx(b.import_cost - b.export_revenue)
            assert min(day.prices) * b.import_kwh <= b.import_cost + TOLERANCE
            assert b.import_cost <= max(day.prices) * b.import_kwh + TOLERANCE
        flat = day.flat
        assert flat.import_kwh == pytest.approx(day.no_control.import_kwh)
        assert flat.cost == pytest.approx(
            24.5 * flat.import_kwh - 5.5 * flat.export_kwh
        )


def test_without_pv_nothing_is_exported_or_curtailed() -> None:
    days = replay(household(pv=None), prices(), date(2020, 6, 1), date(2020, 6, 2))
    for day in days:
        for b in (day.hems, day.rules, day.no_control):
            assert b.pv_kwh == b.export_kwh == b.curtailed_kwh == 0
            assert b.self_consumed_kwh == 0


def test_clock_change_day_takes_pv_at_its_utc_slots() -> None:
    """29 March 2020 has 46 local half-hours; PV from the March NESO slice."""
    pv = {"kwp": 4, "profile": str(MARCH_PV)}
    days = replay(household(pv=pv), prices(), date(2020, 3, 28), date(2020, 3, 29))
    assert [d.slots for d in days] == [46, 48]
    per_kwp = neso_kw_per_kwp(MARCH_PV)
    for day in days:
        assert day.hems.pv_kwh == pytest.approx(
            4 * 0.5 * sum(kw / 4 for kw in day.pv_kw)
        )
    first = days[0]
    starts = sorted(per_kwp)
    begin = starts.index(datetime(2020, 3, 28, 17, tzinfo=UTC))
    expected = [4 * per_kwp[s] for s in starts[begin : begin + 46]]
    assert first.pv_kw == pytest.approx(expected)


def test_a_year_of_pv_replays_onto_another_year() -> None:
    """``pv.year: 2020`` takes 2021's slots from the same UTC date and time of 2020."""
    pv = {"kwp": KWP, "profile": str(JUNE_PV), "year": 2020}
    moved = replay(household(pv=pv), prices(), date(2021, 6, 1), date(2021, 6, 2))
    assert [d.day for d in moved] == [date(2021, 6, 1), date(2021, 6, 2)]
    for day, same in zip(moved, june(), strict=False):
        assert day.pv_kw == pytest.approx(same.pv_kw)
        assert day.prices != same.prices


def test_export_prices_from_a_file_are_booked() -> None:
    """Export prices per slot (here: the import prices) earn what they say."""
    exports = dict(prices())
    days = replay(
        household(export_price=None),
        Sources(prices=prices(), export_prices=exports),
        date(2020, 6, 1),
        date(2020, 6, 2),
    )
    for day in days:
        assert day.export_prices == day.prices
        assert day.hems.export_kwh > 0
        assert min(day.prices) * day.hems.export_kwh <= day.hems.export_revenue
