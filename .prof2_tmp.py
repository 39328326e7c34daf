import csv
import sys
import time

sys.path.insert(0, "custom_components/hems")
from datetime import UTC, datetime, timedelta

from planner import *
from planner import milp

rows = list(csv.DictReader(open("../shared/data/agile_A_2018-02-19_2021-08-23.csv")))
price = {
    datetime.fromisoformat(r["valid_from_utc"]): float(r["value_inc_vat"]) for r in rows
}


def day(d0):
    st = d0
    out = []
    for i in range(48):
        t = st + timedelta(minutes=30 * i)
        out.append(Slot(start=t, price=price[t]))
    return tuple(out)


def run(p, **opts):
    m = milp.build_model(p)
    s = milp._new_highs()
    for k, v in opts.items():
        s.setOptionValue(k, v)
    milp._pass(s, m, m.cost)
    a = time.perf_counter()
    s.run()
    el = time.perf_counter() - a
    info = s.getInfo()
    return el, info.mip_node_count


import random

random.seed(3)
starts = [
    datetime(2019, 1, 1, 17, tzinfo=UTC) + timedelta(days=random.randrange(900))
    for _ in range(8)
]
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
        el, nodes = run(p, time_limit=10.0)
        res.append(f"lim={lim}: {el * 1000:.0f}ms n={nodes}")
        p = Problem(slots=sl, base_load_kw=0.4, import_limit_kw=lim, loads=loads[4:])
        el, nodes = run(p, time_limit=10.0)
        res.append(f"batonly: {el * 1000:.0f}ms n={nodes}")
    print(d0.date(), min(s.price for s in sl), max(s.price for s in sl), *res)
