"""Time and peak memory of ``plan()`` on the problems the integration builds with PV.

Run: source scripts/_env.sh; hems_env_run taskset -c 1 python bench/pv_export_bench.py
[--days N] [--config NAME ...] [--time-limit S] [--memory-limit MB]

Needs the environment (``scheduling.build_problem`` imports Home Assistant) and
../shared/data: the 2023 Agile import and Agile Outgoing export prices (no
licence: read from there, never copied), the NESO embedded PV outturn of 2019
(its shape, scaled to a 4 kWp array, is replayed onto the same UTC dates and
times of 2023) and the measured appliance cycles.

Each of ``--days`` days spread evenly over 2023 gets the problem the
integration builds at 17:00 UK time over every known price (60 slots: to 23:00
the next day; a day whose horizon lacks a price is skipped) with
``scheduling.build_problem`` from load configs with daily windows, one planner
load per window instance in the horizon: car 7 kW 3.5 h 18:00-07:00, immersion
3 kW 2 h below the gas price (7 p / 90 %), dishwasher 19:00-07:00, washing
machine 09:00-21:00 (measured cycles), a 5 kWh battery (2.5 kW, 90 %), base
load 0.35 kW.  The PV forecast, the export prices and limit and the battery's
control are set on the built problem.  Configurations: the battery by modes
(normal, charge_only, force_charge, force_discharge) or by power, each without
limits and with a 9 kW import and 3.68 kW export limit.  ``--event down|up``
plans every day with a flexibility event accepted (:func:`_event`).

Each configuration's problems are written as problem JSON (by a child that
imports Home Assistant) and planned in a fresh child process that loads the
planner alone, as ``scripts/hems`` does.  Reported: the median, p95 and max
plan time, the child's peak RSS (``ru_maxrss``) and its RSS before the first
plan, how many plans are proven optimal, how many failed, and how many the
simple rules or the house without control beat (over the same horizon; none
may; only without the import limit, which the baselines ignore).
"""

import argparse
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
import json
import os
from pathlib import Path
import resource
import statistics
import subprocess
import sys
import tempfile
import time as clock
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
PRICES_2023 = DATA / "agile_import_export_unknown-region_2023.csv"
PV_NESO = DATA / "pv_generation_GB-embedded-NESO_2019-01-01_2020-11-22.csv"
TZ = ZoneInfo("Europe/London")
KWP = 4.0
CONFIGS = {
    "modes": ("modes", None, None),
    "modes_limits": ("modes", 9.0, 3.68),
    "power": ("power", None, None),
    "power_limits": ("power", 9.0, 3.68),
}
SLOTS = 60
TOLERANCE = 1e-6


def _configs() -> list[Any]:
    """Return the household's load configs (as the integration stores them)."""
    from custom_components.hems.load_config import (  # noqa: PLC0415
        Actuator,
        ActuatorKind,
        BatteryConfig,
        CycleConfig,
        DailyWindow,
        InterruptibleConfig,
        LoadKind,
    )
    from custom_components.hems.planner.household import (  # noqa: PLC0415
        read_profiles,
    )

    profiles = read_profiles(DATA / "appliance_profiles_30min.csv")
    none = Actuator(kind=ActuatorKind.NONE)

    def window(a: time, b: time) -> DailyWindow:
        return DailyWindow(start=a, end=b)

    return [
        InterruptibleConfig(
            id="car",
            name="Car",
            kind=LoadKind.EV_CHARGER,
            power_kw=7.0,
            hours=3.5,
            window=window(time(18), time(7)),
            actuator=none,
        ),
        InterruptibleConfig(
            id="immersion",
            name="Immersion",
            kind=LoadKind.IMMERSION,
            power_kw=3.0,
            hours=2.0,
            window=window(time(0), time(0)),
            cheaper_than_gas=True,
            boiler_efficiency=0.9,
            actuator=none,
        ),
        CycleConfig(
            id="dishwasher",
            name="Dishwasher",
            kind=LoadKind.DISHWASHER,
            profile_kwh=profiles["DW_0927Wh_LO_7709s_MI_MI"],
            window=window(time(19), time(7)),
            actuator=none,
        ),
        CycleConfig(
            id="washer",
            name="Washing machine",
            kind=LoadKind.WASHING_MACHINE,
            profile_kwh=profiles["WM_1039Wh_HI_4918s_MI_MI"],
            window=window(time(9), time(21)),
            actuator=none,
        ),
        BatteryConfig(
            id="battery",
            name="Battery",
            kind=LoadKind.BATTERY,
            capacity_kwh=5.0,
            charge_kw=2.5,
            discharge_kw=2.5,
            efficiency=0.9,
            min_soc_kwh=0.5,
            soc_entity=None,
            actuator=none,
        ),
    ]


def _days(count: int) -> list[date]:
    first = date(2023, 1, 1)
    step = 364 / max(count, 1)
    return [first + timedelta(days=int(n * step)) for n in range(count)]


def _event(kind: str, day: date) -> Any:
    """Return the flexibility event of ``--event`` on ``day``'s horizon, or None.

    ``down``: an Octoplus-style saving session 17:30-19:00 the next day, import
    at most 0 kW, 1800 points (225 p) per kWh; ``up``: a free-electricity
    session 13:00-15:00 the next day, price 0 and import at least 3 kW.
    """
    from custom_components.hems.flex import Source, event_from_fields  # noqa: PLC0415

    if kind == "none":
        return None
    next_day = day + timedelta(days=1)
    start, end, asks = (
        (time(17, 30), time(19), {"max_import_kw": 0.0, "points_per_kwh": 1800})
        if kind == "down"
        else (time(13), time(15), {"min_import_kw": 3.0, "free": True})
    )
    return event_from_fields(
        {
            "id": f"{kind}-{day}",
            "direction": kind,
            "start": datetime.combine(next_day, start, TZ).isoformat(),
            "end": datetime.combine(next_day, end, TZ).isoformat(),
            **asks,
        },
        Source.SERVICE,
    )


def problems(config: str, count: int, event: str = "none") -> list[tuple[date, Any]]:
    """Build the configuration's problems, one per sampled day with prices.

    With an ``event`` (``down``/``up``, :func:`_event`) accepted: its prices
    and per-slot targets as the integration plans them.
    """
    from custom_components.hems.flex import adjust_prices, slot_targets  # noqa: PLC0415
    from custom_components.hems.planner import BatteryMode  # noqa: PLC0415
    from custom_components.hems.planner.models import Battery  # noqa: PLC0415
    from custom_components.hems.planner.price_files import (  # noqa: PLC0415
        EXPORT_COLUMNS,
        read_prices,
    )
    from custom_components.hems.planner.pv_profile import (  # noqa: PLC0415
        PvArray,
        read_pv_profile,
    )
    from custom_components.hems.prices import PriceSlot  # noqa: PLC0415
    from custom_components.hems.scheduling import (  # noqa: PLC0415
        SiteState,
        build_problem,
    )

    control, import_limit, export_limit = CONFIGS[config]
    imports = read_prices(PRICES_2023)
    exports = read_prices(PRICES_2023, option="--export-prices", usual=EXPORT_COLUMNS)
    pv = PvArray(kwp=KWP, per_kwp=read_pv_profile(PV_NESO), year=2019)
    loads = _configs()
    built: list[tuple[date, Any]] = []
    for n, day in enumerate(_days(count)):
        begin = datetime.combine(day, time(17), TZ).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(23), TZ).astimezone(UTC)
        starts = []
        moment = begin
        while moment < end:
            starts.append(moment)
            moment += timedelta(minutes=30)
        if any(s not in imports or s not in exports for s in starts):
            continue
        known = [
            PriceSlot(start=s, end=s + timedelta(minutes=30), value=imports[s])
            for s in starts
        ]
        accepted = [e] if (e := _event(event, day)) is not None else []
        if accepted:
            values = adjust_prices([(k.start, k.end, k.value) for k in known], accepted)
            known = [
                PriceSlot(start=k.start, end=k.end, value=v)
                for k, v in zip(known, values, strict=True)
            ]
        result = build_problem(
            loads=loads,
            prices=known,
            now=begin,
            start=begin,
            tz=TZ,
            progress={},
            site=SiteState(
                base_load_kw=0.35,
                import_limit_kw=import_limit,
                gas_price=7.0,
                battery_soc_kwh={"battery": 0.5 + n % 5},
                import_targets_at=(
                    lambda a, b, limit=import_limit, events=accepted: slot_targets(
                        a, b, events, limit
                    )
                )
                if accepted
                else None,
            ),
        )
        assert result is not None
        problem = result.problem

        def steered(load: Any) -> Any:
            if not isinstance(load, Battery):
                return load
            if control == "power":
                return replace(load, control="power")
            return replace(load, modes=(*load.modes, BatteryMode.FORCE_DISCHARGE))

        built.append(
            (
                day,
                replace(
                    problem,
                    slots=tuple(
                        replace(s, export_price=exports[s.start]) for s in problem.slots
                    ),
                    pv_kw=tuple(pv.kw_at(s.start) or 0.0 for s in problem.slots),
                    export_limit_kw=export_limit,
                    loads=tuple(steered(load) for load in problem.loads),
                ),
            )
        )
    return built


def _child(path: str, args: argparse.Namespace) -> None:
    """Plan every problem of one configuration's JSON file."""
    sys.path.insert(0, str(REPO / "scripts"))
    from hems_planner import load_planner  # noqa: PLC0415

    load_planner()  # the planner alone, as scripts/hems runs it
    from custom_components.hems.planner import parse_problem, plan  # noqa: PLC0415
    from custom_components.hems.planner.baselines import (  # noqa: PLC0415
        uncontrolled_decisions,
    )
    from custom_components.hems.planner.rules import rule_decisions  # noqa: PLC0415
    from custom_components.hems.planner.simulate import simulate  # noqa: PLC0415

    built = [
        (day, parse_problem(data))
        for day, data in json.loads(Path(path).read_text(encoding="utf-8"))
    ]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kwargs: dict[str, float] = {}
    if args.time_limit is not None:
        kwargs["time_limit_s"] = args.time_limit
    if args.memory_limit is not None:
        kwargs["memory_limit_mb"] = args.memory_limit
    times: list[float] = []
    optimal = beaten = failed = 0
    notes: list[str] = []
    for day, problem in built:
        began = clock.perf_counter()
        try:
            result = plan(problem, best_effort=True, **kwargs)
        except Exception as err:  # noqa: BLE001 - reported, the run goes on
            failed += 1
            notes.append(f"{day}: {type(err).__name__}: {err}")
            continue
        times.append(clock.perf_counter() - began)
        optimal += bool(result.optimal)
        if problem.import_limit_kw is None:  # the baselines ignore that limit
            rivals = [rule_decisions(problem), uncontrolled_decisions(problem)]
            if any(simulate(problem, d) < result.cost - TOLERANCE for d in rivals):
                beaten += 1
                notes.append(f"{day}: beaten by a baseline")
    ordered = sorted(times) or [0.0]
    print(
        json.dumps(
            {
                "plans": len(built),
                "median": statistics.median(ordered),
                "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
                "max": ordered[-1],
                "rss_before_kb": before,
                "optimal": optimal,
                "beaten": beaten,
                "failed": failed,
                "notes": notes[:3],
            }
        )
    )


def _write_problems(config: str, count: int, folder: Path, event: str) -> Path:
    """Build one configuration's problems and write them as problem JSON."""
    from custom_components.hems.planner import problem_to_json  # noqa: PLC0415

    path = folder / f"{config}.json"
    days = [(str(day), problem_to_json(p)) for day, p in problems(config, count, event)]
    path.write_text(json.dumps(days), encoding="utf-8")
    return path


def main() -> None:
    """Print one line per configuration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=52, help="days of 2023 (52)")
    parser.add_argument("--config", nargs="*", choices=sorted(CONFIGS))
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--memory-limit", type=float, default=None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--event",
        choices=["none", "down", "up"],
        default="none",
        help="plan every day with a turn-down or turn-up event accepted",
    )
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args)
        return
    if args.build:
        sys.path.insert(0, str(REPO))
        _write_problems(args.build[0], args.days, Path(args.build[1]), args.event)
        return
    print(
        f"{'configuration':<14} {'plans':>5} {'median s':>9} {'p95 s':>8} "
        f"{'max s':>8} {'peak MB':>8} {'base MB':>8} {'optimal':>8} "
        f"{'beaten':>6} {'failed':>6}  notes",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="hems-pv-bench-"))
    for config in args.config or list(CONFIGS):
        build = [
            sys.executable,
            __file__,
            "--days",
            str(args.days),
            "--event",
            args.event,
        ]
        subprocess.run([*build, "--build", config, str(folder)], check=True)  # noqa: S603
        path = folder / f"{config}.json"
        cmd = [sys.executable, __file__, "--child", str(path)]
        for flag, value in (
            ("--time-limit", args.time_limit),
            ("--memory-limit", args.memory_limit),
        ):
            if value is not None:
                cmd += [flag, str(value)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)  # noqa: S603
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        peak = usage.ru_maxrss / 1024
        if status != 0 or not out.strip():
            print(f"{config:<14} failed: exit status {status}", flush=True)
            continue
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{config:<14} {r['plans']:>5} {r['median']:>9.3f} {r['p95']:>8.3f} "
            f"{r['max']:>8.3f} {peak:>8.0f} {r['rss_before_kb'] / 1024:>8.0f} "
            f"{r['optimal']:>4}/{r['plans']:<3} {r['beaten']:>6} {r['failed']:>6}  "
            f"{'; '.join(r['notes'])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
