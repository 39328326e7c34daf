import csv
import sys
import time

sys.path.insert(0, "custom_components/hems")
from datetime import UTC, datetime, timedelta

from planner import *
from planner.dp import solve_dp

rows = list(csv.DictReader(open("../shared/data/agile_A_2018-02-19_2021-08-23.csv")))
price = {
    datetime.fromisoformat(r["valid_from_utc"]): float(r["value_inc_vat"]) for r in rows
}


def day(d0):
    return tuple(
        Slot(
            start=d0 + timedelta(minutes=30 * i),
            price=price[d0 + timedelta(minutes=30 * i)],
        )
        for i in range(48)
    )


import random

random.seed(3)
starts = [
    datetime(2019, 1, 1, 17, tzinfo=UTC) + timedelta(days=random.randrange(900))
    for _ in range(8)
]
# lead example
t0 = starts[0]
p = Problem(
    slots=tuple(
        Slot(start=t0 + timedelta(minutes=30 * i), price=x)
        for i, x in enumerate([10, 20])
    ),
    base_load_kw=(1.6, 1.0),
    loads=(Battery(id="b", capacity_kwh=2, soc_kwh=1, charge_kw=0, discharge_kw=10),),
)
r = solve_dp(p)
print(r.cost, r.decisions.mode)
for d0 in starts:
    sl = day(d0)
    W = lambda a, b: Window(start=d0 + timedelta(hours=a), end=d0 + timedelta(hours=b))
    loads = (
        InterruptibleLoad(id="car", power_kw=7, slots=6, window=W(1, 14)),
        InterruptibleLoad(id="imm", power_kw=3, slots=4, max_price=8),
        CycleLoad(
            id="dw", profile_kwh=(0.33, 0.36, 0.21, 0.016, 0.0045), window=W(2, 15)
        ),
        CycleLoad(
            id="wm", profile_kwh=(0.46, 0.66, 0.09, 0.03, 0.002), window=W(0, 24)
        ),
        Battery(
            id="bat",
            capacity_kwh=5,
            soc_kwh=1,
            charge_kw=3,
            discharge_kw=3,
            efficiency=0.9,
        ),
    )
    res = []
    for lim in (None, 9.0):
        p = Problem(slots=sl, base_load_kw=0.4, import_limit_kw=lim, loads=loads)
        a = time.perf_counter()
        r = solve_dp(p)
        el = time.perf_counter() - a
        c = simulate(p, r.decisions)
        res.append(f"lim={lim}: {el * 1000:.0f}ms dp={r.cost:.4f} sim={c:.4f}")
    print(d0.date(), *res)
