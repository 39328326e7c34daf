"""Solve times of the MILP on 60-slot days with PV, export prices and a battery.

Run: source scripts/_env.sh; hems_env_run taskset -c 1 python -P bench/milp_pv_bench.py
[--days N] [--control power|modes] [--repeat R]

Needs ../shared/data (read there, never copied): Agile import and Outgoing
export prices of 2023, the GB embedded PV shape (NESO, 2019: the same month
and day, scaled to a 4 kWp roof) and the measured appliance cycles.  Each
problem runs 17:00 UTC to 23:00 UTC the next day (60 slots): 0.4 kW base load,
a car (7 kW, 3.5 h, 18:00-07:00), an immersion (3 kW, 2 h), a dishwasher
(19:00-07:00), a washing machine (09:00-21:00) and a 5 kWh battery (2.5 kW,
90 %).  Variants: no limits; a 9 kW import and 3.68 kW export limit; a 9 kW
import and 1 kW export limit (curtailment).  Prints each variant's median and
p95 CPU time of ``solve_milp`` (one thread; CPU rather than wall time as the
machine may be shared; the median of ``--repeat`` runs per problem) and how
many problems were proven optimal.
"""

import argparse
import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
import statistics
import sys
import time

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "scripts"))

from hems_planner import load_planner  # noqa: E402

load_planner()

from custom_components.hems.planner import (  # noqa: E402
    Battery,
    BatteryMode,
    CycleLoad,
    InterruptibleLoad,
    Problem,
    Slot,
    Window,
    simulate,
)
from custom_components.hems.planner.household import read_profiles  # noqa: E402
from custom_components.hems.planner.milp import solve_milp  # noqa: E402

DISHWASHER = "DW_0927Wh_LO_7709s_MI_MI"
WASHER = "WM_1039Wh_HI_4918s_MI_MI"
KWP = 4.0
SLOTS = 60
VARIANTS = {
    "no limits": (None, None),
    "9 kW / 3.68 kW": (9.0, 3.68),
    "9 kW / 1 kW": (9.0, 1.0),
}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def read_agile_2023() -> dict[datetime, tuple[float, float]]:
    """UTC start -> (import, export) p/kWh."""
    path = DATA / "agile_import_export_unknown-region_2023.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            _when(r["valid_from_utc"]): (float(r["import_inc_vat"]), float(r["export"]))
            for r in csv.DictReader(handle)
        }


def read_pv_shape() -> dict[datetime, float]:
    """UTC start -> share of the installed capacity generating (0..1)."""
    path = DATA / "pv_generation_GB-embedded-NESO_2019-01-01_2020-11-22.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            _when(r["interval_start_utc"]): float(r["embedded_solar_generation_mw"])
            / float(r["embedded_solar_capacity_mw"])
            for r in csv.DictReader(handle)
        }


def day_problem(
    day: date,
    prices: dict[datetime, tuple[float, float]],
    pv: dict[datetime, float],
    profiles: dict[str, tuple[float, ...]],
    control: str,
) -> Problem | None:
    """Return the 60-slot problem from 17:00 UTC on ``day`` (``None``: no prices)."""
    begin = datetime(day.year, day.month, day.day, 17, tzinfo=UTC)
    starts = [begin + timedelta(minutes=30 * i) for i in range(SLOTS)]
    if any(s not in prices for s in starts):
        return None
    slots = tuple(
        Slot(start=s, price=prices[s][0], export_price=prices[s][1]) for s in starts
    )
    shape = [pv[s.replace(year=2019)] for s in starts]

    def hours(a: float, b: float) -> Window:
        return Window(start=begin + timedelta(hours=a), end=begin + timedelta(hours=b))

    battery = Battery(
        id="battery",
        capacity_kwh=5.0,
        soc_kwh=2.5,
        min_soc_kwh=0.5,
        charge_kw=2.5,
        discharge_kw=2.5,
        efficiency=0.9,
        control=control,  # type: ignore[arg-type]
        modes=tuple(BatteryMode)
        if control == "modes"
        else Battery.__dataclass_fields__["modes"].default,
    )
    return Problem(
        slots=slots,
        base_load_kw=0.4,
        pv_kw=tuple(KWP * share for share in shape),
        loads=(
            InterruptibleLoad(id="car", power_kw=7.0, slots=7, window=hours(1, 14)),
            InterruptibleLoad(id="immersion", power_kw=3.0, slots=4),
            CycleLoad(
                id="dishwasher", profile_kwh=profiles[DISHWASHER], window=hours(2, 14)
            ),
            CycleLoad(id="washer", profile_kwh=profiles[WASHER], window=hours(16, 28)),
            battery,
        ),
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    """Print one line per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=int, default=52, help="days of 2023, evenly spread"
    )
    parser.add_argument("--control", default="power", choices=["power", "modes"])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    prices, pv = read_agile_2023(), read_pv_shape()
    profiles = read_profiles(DATA / "appliance_profiles_30min.csv")
    first = date(2023, 1, 1)
    step = max(1, 364 // args.days)
    days = [first + timedelta(days=step * i) for i in range(args.days)]
    solve_milp(day_problem(days[0], prices, pv, profiles, args.control))  # warm up
    print(
        f"{args.control} control, {len(days)} days of 2023, 60 slots, "
        "1 thread, CPU seconds",
        flush=True,
    )
    print(
        f"{'variant':<16} {'median s':>9} {'p95 s':>7} {'max s':>7} "
        f"{'optimal':>8}  slowest"
    )
    for name, (imp, exp) in VARIANTS.items():
        times: list[tuple[float, date]] = []
        optimal = 0
        for day in days:
            base = day_problem(day, prices, pv, profiles, args.control)
            if base is None:
                continue
            problem = Problem(
                slots=base.slots,
                base_load_kw=base.base_load_kw,
                pv_kw=base.pv_kw,
                loads=base.loads,
                import_limit_kw=imp,
                export_limit_kw=exp,
            )
            runs = []
            for _ in range(args.repeat):
                began = time.process_time()
                outcome = solve_milp(problem, best_effort=True, budget=None)
                runs.append(time.process_time() - began)
            assert outcome.decisions is not None
            cost = simulate(problem, outcome.decisions)
            assert (
                abs(cost - outcome.bound) <= 1e-6 * (1 + abs(cost))
                or not outcome.optimal
            )
            optimal += outcome.optimal
            times.append((statistics.median(runs), day))
        secs = [t for t, _ in times]
        slow = max(times)
        print(
            f"{name:<16} {statistics.median(secs):>9.3f} {_p95(secs):>7.3f} "
            f"{slow[0]:>7.3f} {optimal:>4}/{len(times):<3}  {slow[1]}",
            flush=True,
        )


if __name__ == "__main__":
    main()
