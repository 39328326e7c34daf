"""Time plan() on the day problems with PV, export prices and force discharge.

Run: source scripts/_env.sh; hems_env_run taskset -c 1 python bench/pv_bench.py
Reads ../shared/data (not shipped): the NESO embedded solar shape (NESO Open
Licence, "Supported by National Grid ESO Open Data"), scaled to a household's
kWp, and for variant B the 2023 Agile import and Agile Outgoing export prices
(no licence: read from ../shared only, never copied). Each day problem of
``bench/problems/day_*.json`` (60 slots: car, second car, immersion,
dishwasher, washers, a 5 kWh battery, a 9 kW limit) is planned as it is (0)
and with its battery offering force discharge and:

* A: 4 kWp, a fixed 15 p export rate, no export limit;
* B: 4 kWp, the 2023 import and export prices of the same date and time,
  a 3.68 kW export limit;
* C: 6 kWp, export at half the import price + 2 p, a 3.68 kW export limit.

Prints per problem the time, the Python heap's peak (tracemalloc) and whether
the plan is proven optimal, then the median and maximum per variant.
"""

import csv
from dataclasses import replace
from datetime import datetime
import json
from pathlib import Path
import statistics
import sys
import time
import tracemalloc

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from hems_planner import load_planner  # noqa: E402 - the planner without HA

load_planner()
from custom_components.hems.planner import (  # noqa: E402
    Battery,
    BatteryMode,
    Problem,
    plan,
)
from custom_components.hems.planner.problem_io import parse_problem  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SOLAR = DATA / "pv_generation_GB-embedded-NESO_2019-01-01_2020-11-22.csv"
PRICES_2023 = DATA / "agile_import_export_unknown-region_2023.csv"
KWP = {"0": 0.0, "A": 4.0, "B": 4.0, "C": 6.0}
EXPORT_LIMIT_KW = 3.68

type _When = tuple[int, int, int, int]  # month, day, hour, minute


def _solar_shape() -> dict[datetime, float]:
    with SOLAR.open(encoding="utf-8") as f:
        return {
            datetime.fromisoformat(row["interval_start_utc"]): float(
                row["embedded_solar_generation_mw"]
            )
            / float(row["embedded_solar_capacity_mw"])
            for row in csv.DictReader(f)
        }


def _prices_2023() -> dict[_When, tuple[float, float]]:
    with PRICES_2023.open(encoding="utf-8") as f:
        rows = {}
        for row in csv.DictReader(f):
            t = datetime.fromisoformat(row["valid_from_utc"])
            rows[t.month, t.day, t.hour, t.minute] = (
                float(row["import_inc_vat"]),
                float(row["export"]),
            )
        return rows


def _shape_at(shape: dict[datetime, float], moment: datetime) -> float:
    for year in (moment.year, 2020, 2019):  # the shape covers 2019-2020
        try:
            key = moment.replace(year=year)
        except ValueError:  # 29 February
            continue
        if key in shape:
            return shape[key]
    return 0.0


def variant(
    problem: Problem,
    name: str,
    shape: dict[datetime, float],
    prices: dict[_When, tuple[float, float]],
) -> Problem:
    """``problem`` with the PV, export prices and battery modes of a variant."""
    if name == "0":
        return problem
    slots = []
    for slot in problem.slots:
        t = slot.start
        if name == "A":
            slots.append(replace(slot, export_price=15.0))
        elif name == "B":
            p, e = prices.get((t.month, t.day, t.hour, t.minute), (slot.price, 0.0))
            slots.append(replace(slot, price=p, export_price=e))
        else:
            e = None if slot.price is None else round(0.5 * slot.price + 2, 3)
            slots.append(replace(slot, export_price=e))
    loads = tuple(
        replace(x, modes=tuple(BatteryMode)) if isinstance(x, Battery) else x
        for x in problem.loads
    )
    return replace(
        problem,
        slots=tuple(slots),
        pv_kw=tuple(round(KWP[name] * _shape_at(shape, s.start), 3) for s in slots),
        loads=loads,
        export_limit_kw=None if name == "A" else EXPORT_LIMIT_KW,
    )


def main() -> None:
    """Plan every day problem in every variant and print the figures."""
    shape, prices = _solar_shape(), _prices_2023()
    figures: dict[str, list[tuple[float, float, bool]]] = {}
    for path in sorted((REPO / "bench" / "problems").glob("day_*.json")):
        base = parse_problem(json.loads(path.read_text(encoding="utf-8")))
        for name in KWP:
            problem = variant(base, name, shape, prices)
            tracemalloc.start()
            began = time.perf_counter()
            result = plan(problem)
            seconds = time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            figures.setdefault(name, []).append((seconds, peak, result.optimal))
            print(
                f"{path.stem} {name}: {seconds * 1000:7.1f} ms, heap {peak:5.1f} MB, "
                f"optimal={result.optimal}, cost {result.cost:.2f} p"
            )
    for name, rows in figures.items():
        times = sorted(r[0] for r in rows)
        print(
            f"{name}: median {statistics.median(times) * 1000:.0f} ms, max "
            f"{times[-1] * 1000:.0f} ms, heap peak {max(r[1] for r in rows):.0f} MB, "
            f"proven {sum(r[2] for r in rows)}/{len(rows)}"
        )


if __name__ == "__main__":
    main()
