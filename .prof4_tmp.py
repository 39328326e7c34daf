import sys, time, csv
sys.path.insert(0, "custom_components/hems")
from planner import *
from planner import dp
from datetime import datetime, UTC, timedelta
rows = list(csv.DictReader(open("../shared/data/agile_A_2018-02-19_2021-08-23.csv")))
price = {datetime.fromisoformat(r["valid_from_utc"]): float(r["value_inc_vat"]) for r in rows}
def day(d0, n=48): return tuple(Slot(start=d0+timedelta(minutes=30*i), price=price[d0+timedelta(minutes=30*i)]) for i in range(n))
d0 = datetime(2019,9,1,17,tzinfo=UTC)
orig = dp._prune
stats=[]
def prune(entries, pen, hb):
    k = orig(entries, pen, hb); stats.append((len(entries), len(k))); return k
dp._prune = prune
for sub in ([4], [0,4], [0,1,4], [0,1,2,4]):
    sl = day(d0)
    W = lambda a,b: Window(start=d0+timedelta(hours=a), end=d0+timedelta(hours=b))
    loads=(InterruptibleLoad(id="car", power_kw=7, slots=6, window=W(1,14)),
      InterruptibleLoad(id="imm", power_kw=3, slots=4, max_price=8),
      CycleLoad(id="dw", profile_kwh=(0.33,0.36,0.21,0.016,0.0045), window=W(2,15)),
      CycleLoad(id="wm", profile_kwh=(0.46,0.66,0.09,0.03,0.002), window=W(0,24)),
      Battery(id="bat", capacity_kwh=5, soc_kwh=1, charge_kw=3, discharge_kw=3, efficiency=0.9))
    p = Problem(slots=sl, base_load_kw=0.4, loads=tuple(loads[i] for i in sub))
    stats.clear()
    a=time.perf_counter(); r = dp.solve_dp(p); el=time.perf_counter()-a
    print(sub, f"{el*1000:.0f}ms", r.cost, simulate(p, r.decisions), "keys", len(stats), "maxkept", max(s[1] for s in stats), "sumkept", sum(s[1] for s in stats), "sumin", sum(s[0] for s in stats), flush=True)
