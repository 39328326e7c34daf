"""Write the benchmark problems to bench/problems/*.json.

Run: source scripts/_env.sh; hems_env_run python bench/make_problems.py
Needs the environment (it imports the integration's ``scheduling`` module,
which imports Home Assistant) and ../shared/data (real Agile prices, region A,
and the measured appliance cycles).

* ``day_*.json``: what the integration builds at 17:00 UK time over every
  known price (the rest of today and tomorrow to 23:00: 58-62 slots) with
  ``scheduling.build_problem`` from load configs with daily windows: car, second
  car, immersion below the gas price, dishwasher and washing machine (measured
  cycles), a 5 kWh battery and a 9 kW import limit.
* ``stress_*.json``: larger problems that must stay bounded in time and memory.
"""

from datetime import UTC, date, datetime, time, timedelta
import json
from pathlib import Path
import sys
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from custom_components.hems.load_config import (  # noqa: E402
    Actuator,
    ActuatorKind,
    BatteryConfig,
    CycleConfig,
    DailyWindow,
    InterruptibleConfig,
    LoadKind,
)
from custom_components.hems.planner import (  # noqa: E402
    Battery,
    CycleLoad,
    InterruptibleLoad,
    Problem,
    Slot,
    Window,
    problem_to_json,
)
from custom_components.hems.planner.backtest import read_prices  # noqa: E402
from custom_components.hems.planner.household import read_profiles  # noqa: E402
from custom_components.hems.prices import PriceSlot  # noqa: E402
from custom_components.hems.scheduling import SiteState, build_problem  # noqa: E402

DATA = REPO.parent / "shared" / "data"
OUT = REPO / "bench" / "problems"
TZ = ZoneInfo("Europe/London")
NONE = Actuator(kind=ActuatorKind.NONE)
DISHWASHER = "DW_0927Wh_LO_7709s_MI_MI"
WASHER = "WM_1039Wh_HI_4918s_MI_MI"

# (local day, why it is here, car hours, second car hours, base kW, battery SoC)
DAYS = [
    (date(2019, 12, 23), "reference winter day", 3.5, 2.5, 0.35, 2.5),
    (
        date(2020, 2, 13),
        "the hardest sampled day for the old search",
        4.0,
        3.0,
        0.4,
        2.5,
    ),
    (date(2020, 1, 2), "the second hardest sampled day", 4.0, 3.0, 0.4, 1.5),
    (date(2020, 5, 22), "25 negative slots", 4.0, 3.0, 0.45, 4.0),
    (date(2020, 12, 26), "16 negative slots, 31.5 p peak", 3.5, 2.5, 0.4, 3.0),
    (date(2021, 8, 19), "flattest day, many slots at the 35 p cap", 3.0, 2.0, 0.5, 2.0),
    (date(2020, 10, 24), "clock change (62 slots), negatives", 4.0, 3.0, 0.35, 1.0),
    (date(2021, 3, 27), "clock change (58 slots)", 3.5, 2.5, 0.45, 2.5),
]


def configs(
    profiles: dict[str, tuple[float, ...]], car_hours: float, car2_hours: float
) -> list:
    """Return the household's load configs (as the integration stores them)."""

    def window(a: time, b: time) -> DailyWindow:
        return DailyWindow(start=a, end=b)

    return [
        InterruptibleConfig(
            id="car",
            name="Car",
            kind=LoadKind.EV_CHARGER,
            power_kw=7.0,
            hours=car_hours,
            window=window(time(18), time(7)),
            actuator=NONE,
        ),
        InterruptibleConfig(
            id="car2",
            name="Second car",
            kind=LoadKind.EV_CHARGER,
            power_kw=7.4,
            hours=car2_hours,
            window=window(time(19), time(7, 30)),
            actuator=NONE,
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
            actuator=NONE,
        ),
        CycleConfig(
            id="dishwasher",
            name="Dishwasher",
            kind=LoadKind.DISHWASHER,
            profile_kwh=profiles[DISHWASHER],
            window=window(time(19), time(7)),
            actuator=NONE,
        ),
        CycleConfig(
            id="washer",
            name="Washing machine",
            kind=LoadKind.WASHING_MACHINE,
            profile_kwh=profiles[WASHER],
            window=window(time(9), time(21)),
            actuator=NONE,
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
            actuator=NONE,
        ),
    ]


def known_prices(prices: dict[datetime, float], day: date) -> list[PriceSlot]:
    """Today's prices from 17:00 and tomorrow's to 23:00 (local)."""
    begin = datetime.combine(day, time(17), TZ).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(23), TZ).astimezone(UTC)
    slots = []
    moment = begin
    while moment < end:
        slots.append(
            PriceSlot(
                start=moment, end=moment + timedelta(minutes=30), value=prices[moment]
            )
        )
        moment += timedelta(minutes=30)
    return slots


def day_problem(
    prices: dict[datetime, float], profiles: dict[str, tuple[float, ...]], spec: tuple
) -> Problem:
    """Build the problem the integration builds at 17:00 local on ``spec``'s day."""
    day, _, car_hours, car2_hours, base, soc = spec
    known = known_prices(prices, day)
    now = known[0].start
    built = build_problem(
        loads=configs(profiles, car_hours, car2_hours),
        prices=known,
        now=now,
        start=now,
        tz=TZ,
        progress={},
        site=SiteState(
            base_load_kw=base,
            import_limit_kw=9.0,
            gas_price=7.0,
            battery_soc_kwh={"battery": soc},
        ),
    )
    assert built is not None
    return built.problem


def _slots(prices: dict[datetime, float], begin: datetime, count: int) -> tuple:
    return tuple(
        Slot(start=s, price=prices[s])
        for s in (begin + timedelta(minutes=30 * i) for i in range(count))
    )


def _battery() -> Battery:
    return Battery(
        id="battery",
        capacity_kwh=5.0,
        soc_kwh=2.5,
        min_soc_kwh=0.5,
        charge_kw=2.5,
        discharge_kw=2.5,
        efficiency=0.9,
    )


def stress_problems(
    prices: dict[datetime, float], profiles: dict[str, tuple[float, ...]]
) -> dict[str, Problem]:
    """30 cycles over 96 slots; 12 loads + battery + limit; 1000 slots."""
    names = sorted(p for p in profiles if not p.startswith("TD"))
    begin = datetime(2020, 1, 14, 17, tzinfo=UTC)
    slots96 = _slots(prices, begin, 96)

    def hours(a: float, b: float) -> Window:
        return Window(start=begin + timedelta(hours=a), end=begin + timedelta(hours=b))

    cycles = tuple(
        CycleLoad(
            id=f"cycle{i}",
            profile_kwh=profiles[names[i % len(names)]],
            window=hours(2 * (i % 12), 2 * (i % 12) + 20 + i % 5),
        )
        for i in range(30)
    )
    many = (
        InterruptibleLoad(id="car", power_kw=7.0, slots=7, window=hours(1, 14)),
        InterruptibleLoad(id="car2", power_kw=7.4, slots=5, window=hours(2, 14.5)),
        InterruptibleLoad(id="van", power_kw=3.6, slots=8, window=hours(0, 15)),
        InterruptibleLoad(id="immersion", power_kw=3.0, slots=4, max_price=7.78),
        InterruptibleLoad(id="heater", power_kw=2.0, slots=6, window=hours(6, 16)),
        InterruptibleLoad(id="pool", power_kw=1.5, slots=8),
        InterruptibleLoad(id="towel", power_kw=0.5, slots=10, window=hours(0, 12)),
        CycleLoad(
            id="dishwasher", profile_kwh=profiles[DISHWASHER], window=hours(2, 14)
        ),
        CycleLoad(id="washer", profile_kwh=profiles[WASHER], window=hours(0, 16)),
        CycleLoad(
            id="dryer",
            profile_kwh=profiles["TD_condensing_2628Wh_HI_6908s_MI_MI"],
            window=hours(3, 16),
        ),
        CycleLoad(
            id="dishwasher2", profile_kwh=profiles[names[1]], window=hours(14, 26)
        ),
        CycleLoad(id="washer2", profile_kwh=profiles[names[-1]], window=hours(16, 30)),
        _battery(),
    )
    long_begin = datetime(2020, 2, 3, 17, tzinfo=UTC)
    return {
        "stress_30_cycles_96_slots": Problem(
            slots=slots96,
            base_load_kw=0.4,
            import_limit_kw=9.0,
            loads=(*cycles, _battery()),
        ),
        "stress_12_loads_battery_limit": Problem(
            slots=slots96[:62],
            base_load_kw=0.4,
            import_limit_kw=9.0,
            loads=many,
        ),
        "stress_1000_slots": Problem(
            slots=_slots(prices, long_begin, 1000),
            base_load_kw=0.4,
            import_limit_kw=9.0,
            loads=(
                InterruptibleLoad(id="car", power_kw=7.0, slots=40),
                InterruptibleLoad(
                    id="immersion", power_kw=3.0, slots=60, max_price=7.78
                ),
                CycleLoad(id="dishwasher", profile_kwh=profiles[DISHWASHER]),
                CycleLoad(id="washer", profile_kwh=profiles[WASHER]),
                _battery(),
            ),
        ),
    }


def main() -> None:
    """Write every problem."""
    prices = read_prices(DATA / "agile_A_2018-02-19_2021-08-23.csv")
    profiles = read_profiles(DATA / "appliance_profiles_30min.csv")
    OUT.mkdir(exist_ok=True)
    written: dict[str, Problem] = {}
    for spec in DAYS:
        written[f"day_{spec[0]:%Y-%m-%d}"] = day_problem(prices, profiles, spec)
    written.update(stress_problems(prices, profiles))
    for name, problem in written.items():
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(problem_to_json(problem), indent=1) + "\n")
        kinds = [type(load).__name__ for load in problem.loads]
        print(f"{path.relative_to(REPO)}: {len(problem.slots)} slots, {kinds}")


if __name__ == "__main__":
    main()
