import sys
import time

sys.path.insert(0, "custom_components/hems")
from datetime import UTC, datetime, timedelta
import random

from planner import *
from planner import milp

t0 = datetime(2024, 1, 10, 17, tzinfo=UTC)


def slots(prices):
    return tuple(
        Slot(start=t0 + timedelta(minutes=30 * i), price=p)
        for i, p in enumerate(prices)
    )


random.seed(1)
prices = [random.uniform(-2, 30) for _ in range(48)]
loads = [
    InterruptibleLoad(id="car", power_kw=7, slots=6),
    InterruptibleLoad(id="imm", power_kw=3, slots=4, max_price=8),
    CycleLoad(id="dw", profile_kwh=(0.33, 0.36, 0.21, 0.016, 0.0045)),
    CycleLoad(id="wm", profile_kwh=(0.46, 0.66, 0.09, 0.03, 0.002)),
    Battery(
        id="bat", capacity_kwh=5, soc_kwh=1, charge_kw=3, discharge_kw=3, efficiency=0.9
    ),
]


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
    print(
        opts,
        f"{el:.2f}s nodes={info.mip_node_count} obj={info.objective_function_value + m.offset:.6f} gap={info.mip_gap}",
    )


for lim in (None, 9.0):
    for sub in ([4], [0, 1, 2, 3, 4]):
        p = Problem(
            slots=slots(prices),
            base_load_kw=0.4,
            import_limit_kw=lim,
            loads=tuple(loads[i] for i in sub),
        )
        print("limit", lim, "loads", sub)
        run(p, time_limit=20.0)
        run(p, time_limit=20.0, mip_rel_gap=1e-4)
