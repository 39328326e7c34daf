"""Planner benchmark on real Agile prices (region A) and measured cycles.

Run: source scripts/_env.sh; hems_env_run python bench/planner_bench.py [--days N]
Per day (a 48-slot day from 17:00 UTC) it plans one household and reports the
plan time (median, p95, max) and the cost against the simple per-device rules,
for several configurations: with/without an import limit and a battery.
``unproven`` counts plans not proven optimal (stopped by the deadline or the
memory ceiling; 0 means every plan is proven optimal).
"""

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
import statistics
import sys
import time

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from hems_planner import load_planner  # noqa: E402 - the planner without HA

load_planner()
from custom_components.hems.planner import (  # noqa: E402
    Battery,
    CycleLoad,
    InfeasibleError,
    InterruptibleLoad,
    Problem,
    Slot,
    Window,
    plan,
    rule_decisions,
    simulate,
)
from custom_components.hems.planner.backtest import read_prices  # noqa: E402
from custom_components.hems.planner.household import read_profiles  # noqa: E402

DATA = REPO / "demo"  # real region A prices and measured cycles (demo/README.md)


def household(start: datetime, profiles: dict, *, battery: bool, loads: int) -> list:
    """Return the benchmark household's loads for the day starting at ``start``."""

    def window(a: int, b: int) -> Window:
        return Window(start=start + timedelta(hours=a), end=start + timedelta(hours=b))

    items = [
        InterruptibleLoad(id="car", power_kw=7.0, slots=6, window=window(1, 14)),
        InterruptibleLoad(id="immersion", power_kw=3.0, slots=3, max_price=8.0),
        CycleLoad(
            id="dishwasher",
            profile_kwh=profiles["DW_0927Wh_LO_7709s_MI_MI"],
            window=window(2, 14),
        ),
        CycleLoad(id="washer", profile_kwh=profiles["WM_1039Wh_HI_4918s_MI_MI"]),
    ][:loads]
    if battery:
        items.append(
            Battery(
                id="battery",
                capacity_kwh=5.0,
                soc_kwh=2.5,
                min_soc_kwh=0.5,
                charge_kw=2.5,
                discharge_kw=2.5,
                efficiency=0.9,
            )
        )
    return items


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=int, default=30, help="days to sample (default 30)"
    )
    parser.add_argument("--loads", type=int, default=4, help="non-battery loads (0-4)")
    args = parser.parse_args()
    prices = read_prices(DATA / "agile_A_2018-02-19_2021-08-23.csv.gz")
    profiles = read_profiles(DATA / "appliance_profiles_30min.csv")
    first = datetime(2019, 1, 1, 17, tzinfo=UTC)
    step = max(1, 900 // args.days)
    days = [first + timedelta(days=step * i) for i in range(args.days)]
    print(
        f"{'config':<28} {'days':>4} {'median ms':>10} {'p95 ms':>8} "
        f"{'max ms':>8} {'unproven':>8} {'hems p':>10} {'rules p':>10} {'saving':>7}"
    )
    # one untimed plan first: importing numpy and highspy is a one-off cost
    warm = tuple(
        Slot(start=first + timedelta(minutes=30 * i), price=float(i % 7))
        for i in range(48)
    )
    plan(
        Problem(
            slots=warm,
            import_limit_kw=9.0,
            loads=tuple(household(first, profiles, battery=True, loads=args.loads)),
        ),
        best_effort=True,
    )
    for battery in (False, True):
        for limit in (None, 9.0):
            times, costs, rules = [], [], []
            unproven = 0
            for start in days:
                slots = tuple(
                    Slot(
                        start=start + timedelta(minutes=30 * i),
                        price=prices[start + timedelta(minutes=30 * i)],
                    )
                    for i in range(48)
                )
                problem = Problem(
                    slots=slots,
                    base_load_kw=0.4,
                    import_limit_kw=limit,
                    loads=tuple(
                        household(start, profiles, battery=battery, loads=args.loads)
                    ),
                )
                began = time.perf_counter()
                try:
                    result = plan(problem, best_effort=True)
                except InfeasibleError:
                    continue
                times.append(1000 * (time.perf_counter() - began))
                unproven += not getattr(result, "optimal", True)
                costs.append(result.cost)
                rules.append(simulate(problem, rule_decisions(problem)))
            times.sort()
            name = f"{args.loads} loads{' +battery' if battery else ''}, limit {limit}"
            total, base = sum(costs), sum(rules)
            saving = 100 * (base - total) / abs(base) if base else 0.0
            p95 = times[int(0.95 * (len(times) - 1))]
            print(
                f"{name:<28} {len(times):>4} {statistics.median(times):>10.1f} "
                f"{p95:>8.1f} {times[-1]:>8.1f} {unproven:>8} "
                f"{total:>10.1f} {base:>10.1f} {saving:>6.1f}%",
                flush=True,
            )


if __name__ == "__main__":
    main()
