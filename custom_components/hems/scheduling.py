"""From configured loads and known prices to a planner problem and back.

Pure (no HA import). Daily windows in local time become one planner load per
window instance over the horizon; what already ran (slots applied, cycles
started) is taken off, so a re-plan never repeats or moves a started run.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
import itertools
import math
from typing import Any
from zoneinfo import ZoneInfo

from .const import PRICES_OVERDUE_TIME
from .load_config import (
    BatteryConfig,
    BatteryControl,
    CycleConfig,
    DailyWindow,
    InterruptibleConfig,
    LoadConfig,
)
from .planner import (
    Battery,
    BatteryMode,
    CycleLoad,
    InterruptibleLoad,
    Load,
    Plan,
    Problem,
    Slot,
    Window,
)
from .planner.eligibility import cycle_starts
from .planner.models import DEFAULT_MODES
from .prices import SLOT, PriceSlot


@dataclass(frozen=True, slots=True)
class WindowInstance:
    """One occurrence of a daily window, in UTC; ``key`` identifies it."""

    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """Return a stable identifier (the UTC start)."""
        return self.start.strftime("%Y-%m-%dT%H:%MZ")


def window_instances(
    window: DailyWindow, tz: ZoneInfo, first: date, last: date
) -> list[WindowInstance]:
    """Return the window's occurrences starting on local dates first..last."""
    instances = []
    day = first
    while day <= last:
        start = datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)
        end_day = day + timedelta(days=1) if window.crosses_midnight else day
        end = datetime.combine(end_day, window.end, tzinfo=tz).astimezone(UTC)
        instances.append(WindowInstance(start, end))
        day += timedelta(days=1)
    return instances


# A run a minute short of its half-hour still counts as the whole half-hour.
RUN_TOLERANCE = 1 / 30
# The day-ahead prices of a day run to 23:00 UK time (Agile).
PRICE_DAY_END = time(23, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """What already happened for a load: half-hours run and cycles started."""

    runs: Mapping[str, float] = field(default_factory=dict)
    cycle_starts: Mapping[str, datetime] = field(default_factory=dict)
    # A one-off requirement replacing the daily windows it overlaps.
    requirement: tuple[WindowInstance, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteState:
    """Site settings and live readings used for one plan."""

    base_load_kw: float = 0.0
    import_limit_kw: float | None = None
    gas_price: float | None = None
    battery_soc_kwh: Mapping[str, float] = field(default_factory=dict)
    # The learnt base load (kW) of the half-hour starting at a time; None where
    # nothing is learnt (then ``base_load_kw``).
    base_load_at: Callable[[datetime], float | None] | None = None
    # A car's own need, from its state of charge: (window key, kWh to draw).
    car_need_kwh: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    # The solar forecast (kW) of the half-hours starting at the given times
    # (0 where unknown); None: no PV.
    pv_kw_at: Callable[[Sequence[datetime]], Sequence[float]] | None = None
    # What exported energy earns (p/kWh) in the half-hour starting at a time;
    # None where unknown (then it earns nothing).
    export_price_at: Callable[[datetime], float | None] | None = None
    export_limit_kw: float | None = None
    # What accepted flexibility events ask of the half-hour [start, end): its
    # import cap and import target, kW (None where nothing is asked).
    import_targets_at: (
        Callable[[datetime, datetime], tuple[float | None, float | None]] | None
    ) = None

    def pv_kw(self, slots: Sequence[datetime]) -> tuple[float, ...]:
        """Return the PV forecast (kW, never negative) of each half-hour."""
        if self.pv_kw_at is None:
            return (0.0,) * len(slots)
        return tuple(round(max(kw, 0.0), 4) for kw in self.pv_kw_at(slots))

    def base_kw(self, slot: datetime) -> float:
        """Return the base load planned for the half-hour starting at ``slot``."""
        learnt = self.base_load_at(slot) if self.base_load_at is not None else None
        return max(self.base_load_kw if learnt is None else learnt, 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedWindow:
    """What the plan does in one window instance of a load."""

    key: str
    start: datetime
    end: datetime
    planned_slots: int
    shortfall_slots: int = 0
    cycle_start: datetime | None = None
    cycle_cost: float | None = None
    deferred: bool = False
    summary: str = ""
    # The first half-hour of the window whose price is not known yet.
    unpriced_from: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSchedule:
    """One load's part of the plan, per horizon slot."""

    load_id: str
    on: tuple[bool, ...]
    modes: tuple[str, ...] | None = None  # a mode-driven battery's, per slot
    soc_kwh: tuple[float, ...] | None = None  # battery: at the start of each slot
    # Wet goods: the cost (p) of a cycle started in each slot, None where a
    # cycle could not start (outside its windows or past the known prices).
    cycle_costs: tuple[float | None, ...] | None = None
    # Average power per slot (kW); a battery's is its grid flow (+ charging).
    kw: tuple[float, ...] = ()
    energy_kwh: float = 0.0
    cost: float = 0.0
    windows: tuple[PlannedWindow, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """The plan for every load over the horizon."""

    created: datetime
    slot_starts: tuple[datetime, ...]
    prices: tuple[float | None, ...]  # None: not known yet
    loads: Mapping[str, LoadSchedule]
    cost: float
    base_load_kw: float = 0.0
    import_limit_kw: float | None = None
    notes: tuple[str, ...] = ()
    limit_violation_kwh: float = 0.0
    # The window instances this plan took into account ("load@key").
    considered: frozenset[str] = frozenset()
    # The base load planned per slot (kW); empty: ``base_load_kw`` throughout.
    base_kw: tuple[float, ...] = ()
    # The solar forecast planned with (kW per slot; empty: none) and export.
    pv_kw: tuple[float, ...] = ()
    export_prices: tuple[float | None, ...] = ()  # empty or None: earns nothing
    export_limit_kw: float | None = None
    sun: str = ""  # what the sun does in the plan (the planner's words)
    # What accepted flexibility events asked of each slot (kW; empty: nothing
    # anywhere, None: nothing there): import caps and minimums, and the energy
    # the plan is above the caps and below the minimums.
    import_caps_kw: tuple[float | None, ...] = ()
    import_targets_kw: tuple[float | None, ...] = ()
    import_shortfall_kwh: float = 0.0
    import_excess_kwh: float = 0.0

    def base_load(self) -> tuple[float, ...]:
        """Return the base load (kW) of every slot."""
        return self.base_kw or (self.base_load_kw,) * len(self.slot_starts)

    def index(self, when: datetime) -> int | None:
        """Return the index of the slot containing ``when``, if planned."""
        if not self.slot_starts or when < self.slot_starts[0]:
            return None
        index = int((when - self.slot_starts[0]) / SLOT)
        return index if index < len(self.slot_starts) else None

    @property
    def end(self) -> datetime | None:
        """Return the end of the planned horizon."""
        return self.slot_starts[-1] + SLOT if self.slot_starts else None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "created": self.created.isoformat(),
            "slot_starts": [start.isoformat() for start in self.slot_starts],
            "prices": list(self.prices),
            "cost": self.cost,
            "base_load_kw": self.base_load_kw,
            "import_limit_kw": self.import_limit_kw,
            "notes": list(self.notes),
            "limit_violation_kwh": self.limit_violation_kwh,
            "considered": sorted(self.considered),
            "base_kw": list(self.base_kw),
            "pv_kw": list(self.pv_kw),
            "export_prices": list(self.export_prices),
            "export_limit_kw": self.export_limit_kw,
            "sun": self.sun,
            "import_caps_kw": list(self.import_caps_kw),
            "import_targets_kw": list(self.import_targets_kw),
            "import_shortfall_kwh": self.import_shortfall_kwh,
            "import_excess_kwh": self.import_excess_kwh,
            "loads": {
                load_id: {
                    "on": list(load.on),
                    "modes": list(load.modes) if load.modes is not None else None,
                    "soc_kwh": list(load.soc_kwh) if load.soc_kwh is not None else None,
                    "cycle_costs": list(load.cycle_costs)
                    if load.cycle_costs is not None
                    else None,
                    "kw": list(load.kw),
                    "energy_kwh": load.energy_kwh,
                    "cost": load.cost,
                    "windows": [
                        {
                            "key": window.key,
                            "start": window.start.isoformat(),
                            "end": window.end.isoformat(),
                            "planned_slots": window.planned_slots,
                            "shortfall_slots": window.shortfall_slots,
                            "cycle_start": _iso(window.cycle_start),
                            "cycle_cost": window.cycle_cost,
                            "deferred": window.deferred,
                            "summary": window.summary,
                            "unpriced_from": _iso(window.unpriced_from),
                        }
                        for window in load.windows
                    ],
                }
                for load_id, load in self.loads.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """Restore from storage; raise ValueError if anything cannot be trusted."""
        try:
            schedule = _schedule_from_dict(data)
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"stored plan: {err!r}") from None
        count = len(schedule.slot_starts)
        lengths = {"prices": (len(schedule.prices), count)}
        for name, column in (
            ("base_kw", len(schedule.base_kw)),
            ("pv_kw", len(schedule.pv_kw)),
            ("export_prices", len(schedule.export_prices)),
            ("import_caps_kw", len(schedule.import_caps_kw)),
            ("import_targets_kw", len(schedule.import_targets_kw)),
        ):
            if column:
                lengths[name] = (column, count)
        for load in schedule.loads.values():
            lengths[f"{load.load_id}.on"] = (len(load.on), count)
            for name, values, expected in (
                ("modes", load.modes, count),
                ("cycle_costs", load.cycle_costs, count),
                ("kw", load.kw or None, count),
                ("soc_kwh", load.soc_kwh, count + 1),
            ):
                if values is not None:
                    lengths[f"{load.load_id}.{name}"] = (len(values), expected)
        for name, (length, expected) in lengths.items():
            if length != expected:
                raise ValueError(
                    f"stored plan: {name} has {length} values for {expected}"
                )
        return schedule


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _aware(value: Any) -> datetime:
    """Parse a stored time; one without a time zone cannot be trusted."""
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _optional(parse: Any, value: Any) -> Any:
    return None if value is None else parse(value)


def _schedule_from_dict(data: Mapping[str, Any]) -> Schedule:
    return Schedule(
        created=_aware(data["created"]),
        slot_starts=tuple(_aware(start) for start in data["slot_starts"]),
        prices=tuple(_optional(_finite, price) for price in data["prices"]),
        cost=_finite(data["cost"]),
        base_load_kw=_finite(data.get("base_load_kw", 0.0)),
        import_limit_kw=_optional(_finite, data.get("import_limit_kw")),
        notes=tuple(str(note) for note in data.get("notes", ())),
        limit_violation_kwh=_finite(data.get("limit_violation_kwh", 0.0)),
        considered=frozenset(str(key) for key in data.get("considered", ())),
        base_kw=tuple(_finite(kw) for kw in data.get("base_kw", ())),
        pv_kw=tuple(_finite(kw) for kw in data.get("pv_kw", ())),
        export_prices=tuple(
            _optional(_finite, price) for price in data.get("export_prices", ())
        ),
        export_limit_kw=_optional(_finite, data.get("export_limit_kw")),
        sun=str(data.get("sun", "")),
        import_caps_kw=tuple(
            _optional(_finite, kw) for kw in data.get("import_caps_kw", ())
        ),
        import_targets_kw=tuple(
            _optional(_finite, kw) for kw in data.get("import_targets_kw", ())
        ),
        import_shortfall_kwh=_finite(data.get("import_shortfall_kwh", 0.0)),
        import_excess_kwh=_finite(data.get("import_excess_kwh", 0.0)),
        loads={
            str(load_id): LoadSchedule(
                load_id=str(load_id),
                on=tuple(bool(on) for on in load["on"]),
                modes=_optional(lambda m: tuple(str(x) for x in m), load.get("modes")),
                soc_kwh=_optional(
                    lambda socs: tuple(_finite(x) for x in socs), load.get("soc_kwh")
                ),
                cycle_costs=_optional(
                    lambda costs: tuple(_optional(_finite, x) for x in costs),
                    load.get("cycle_costs"),
                ),
                kw=tuple(_finite(kw) for kw in load.get("kw", ())),
                energy_kwh=_finite(load["energy_kwh"]),
                cost=_finite(load["cost"]),
                windows=tuple(
                    PlannedWindow(
                        key=str(window["key"]),
                        start=_aware(window["start"]),
                        end=_aware(window["end"]),
                        planned_slots=int(window["planned_slots"]),
                        shortfall_slots=int(window["shortfall_slots"]),
                        cycle_start=_optional(_aware, window["cycle_start"]),
                        cycle_cost=_optional(_finite, window["cycle_cost"]),
                        deferred=bool(window["deferred"]),
                        summary=str(window["summary"]),
                        unpriced_from=_optional(_aware, window.get("unpriced_from")),
                    )
                    for window in load["windows"]
                ),
            )
            for load_id, load in data["loads"].items()
        },
    )


def horizon_slots(prices: Sequence[PriceSlot], start: datetime) -> list[Slot]:
    """Return every half-hour from ``start`` to the last known price.

    A half-hour whose price is not known (a record the source rejected, or
    left out) is in the horizon with no price: nothing runs there and the
    battery holds, and the loads are planned around it (the planner's
    unpriced slots). Without any price from ``start`` on, the horizon is empty.
    """
    later = sorted(
        (slot for slot in prices if slot.start >= start), key=lambda slot: slot.start
    )
    if not later:
        return []
    by_start = {slot.start: slot.value for slot in later}
    horizon: list[Slot] = []
    moment = start
    while moment < later[-1].end:
        horizon.append(Slot(start=moment, price=by_start.get(moment)))
        moment += SLOT
    return horizon


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltProblem:
    """A planner problem and how its loads map back to configured loads."""

    problem: Problem
    owners: Mapping[str, tuple[str, WindowInstance | None]]
    skipped: Mapping[str, list[PlannedWindow]]
    considered: frozenset[str] = frozenset()
    # kWh per slot of cycles that already started (in the planner's base load).
    running_kwh: Mapping[str, list[float]] = field(default_factory=dict)
    site_base_kw: float = 0.0
    # The site's base load per slot (without cycles already running).
    site_base_slots: tuple[float, ...] = ()


def prices_expected_until(now: datetime, tz: ZoneInfo) -> datetime:
    """Return the end of the prices that should be published by ``now``.

    Tomorrow's day-ahead prices (to 23:00 UK time) appear at about 16:00;
    from ``PRICES_OVERDUE_TIME`` on they are overdue.
    """
    local = now.astimezone(tz)
    day = local.date()
    if local.time() >= PRICES_OVERDUE_TIME:
        day += timedelta(days=1)
    return datetime.combine(day, PRICE_DAY_END, tzinfo=tz).astimezone(UTC)


def _relevant(
    window: DailyWindow, tz: ZoneInfo, now: datetime, h0: datetime, h1: datetime
) -> list[WindowInstance]:
    """Return instances to plan: those wholly priced, started or overdue.

    A window whose later prices are not known yet waits for them while they
    may still come; once it has opened, or its prices are overdue, its priced
    part is planned (the rest is a shortfall, re-planned when prices arrive).
    """
    first = h0.astimezone(tz).date() - timedelta(days=1)
    last = h1.astimezone(tz).date()
    due = prices_expected_until(now, tz)
    return [
        instance
        for instance in window_instances(window, tz, first, last)
        if instance.end > h0
        and instance.start < h1
        and (instance.end <= h1 or instance.start <= now or h1 < due)
    ]


def _battery(load: BatteryConfig, site: SiteState) -> Battery:
    """Return the planner battery: its SoC within range, the modes it offers.

    A mode-driven battery always may hold (``charge_only``): the planner holds
    it in a half-hour without a price.
    """
    soc = site.battery_soc_kwh.get(load.id, load.min_soc_kwh)
    power = load.control is BatteryControl.POWER
    modes = tuple(BatteryMode(mode) for mode in load.modes if mode in _MODE_VALUES)
    if BatteryMode.CHARGE_ONLY not in modes:
        modes = (*modes, BatteryMode.CHARGE_ONLY)
    return Battery(
        id=load.id,
        capacity_kwh=load.capacity_kwh,
        soc_kwh=min(max(soc, load.min_soc_kwh), load.capacity_kwh),
        min_soc_kwh=load.min_soc_kwh,
        charge_kw=load.charge_kw,
        discharge_kw=load.discharge_kw,
        efficiency=load.efficiency,
        control="power" if power else "modes",
        modes=DEFAULT_MODES if power else modes,
    )


_MODE_VALUES = frozenset(mode.value for mode in BatteryMode)


def _cycle(
    load: CycleConfig, instance: WindowInstance, window: Window, done: Progress
) -> CycleLoad | PlannedWindow | None:
    """Return the planner cycle, a skipped window, or None if it already ran."""
    if instance.key in done.cycle_starts:
        return None
    if (window.end - window.start) < SLOT * len(load.profile_kwh):
        return PlannedWindow(
            key=instance.key,
            start=instance.start,
            end=instance.end,
            planned_slots=0,
            deferred=True,
            summary="too little of the window is left for a cycle",
        )
    return CycleLoad(
        id=f"{load.id}@{instance.key}",
        profile_kwh=load.profile_kwh,
        window=window,
        max_cost=load.max_cycle_cost,
    )


def _interruptible(
    load: InterruptibleConfig,
    instance: WindowInstance,
    window: Window,
    done: Progress,
    site: SiteState,
) -> InterruptibleLoad | None:
    """Return the planner load for the rest of a window, or None if done."""
    asked = load.slots
    if done.requirement is not None and instance == done.requirement[0]:
        asked = done.requirement[1]
    needed = max(math.ceil(asked - done.runs.get(instance.key, 0) - RUN_TOLERANCE), 0)
    need = site.car_need_kwh.get(load.id)
    if need is not None and need[0] == instance.key:
        # The car's state of charge already counts what ran in this window.
        slot_kwh = load.power_kw * SLOT / timedelta(hours=1)
        needed = max(math.ceil(need[1] / slot_kwh - RUN_TOLERANCE), 0)
    if needed == 0 and load.opportunistic_price is None:
        return None
    max_price = None
    if load.cheaper_than_gas and site.gas_price is not None:
        max_price = site.gas_price / load.boiler_efficiency
    return InterruptibleLoad(
        id=f"{load.id}@{instance.key}",
        power_kw=load.power_kw,
        slots=needed,
        window=window,
        max_price=max_price,
        opportunistic_price=load.opportunistic_price,
    )


def _instances(
    load: InterruptibleConfig | CycleConfig,
    done: Progress,
    *,
    tz: ZoneInfo,
    now: datetime,
    h0: datetime,
    h1: datetime,
) -> list[WindowInstance]:
    """Return the window instances to plan, a one-off requirement first."""
    instances = _relevant(load.window, tz, now, h0, h1)
    if isinstance(load, InterruptibleConfig) and done.requirement is not None:
        wanted, _ = done.requirement
        instances = [wanted] + [
            instance for instance in instances if instance.start >= wanted.end
        ]
    return instances


def _with_export_prices(slots: list[Slot], site: SiteState) -> list[Slot]:
    """Return the slots with what export earns in the priced ones (if known)."""
    paid = site.export_price_at
    if paid is None:
        return slots
    return [
        replace(slot, export_price=paid(slot.start)) if slot.price is not None else slot
        for slot in slots
    ]


def _with_targets(slots: list[Slot], site: SiteState) -> list[Slot]:
    """Return the slots with the import caps and targets of accepted events."""
    asked = site.import_targets_at
    if asked is None:
        return slots
    result = []
    for slot in slots:
        most, least = asked(slot.start, slot.start + SLOT)
        result.append(replace(slot, max_import_kw=most, min_import_kw=least))
    return result


def build_problem(
    *,
    loads: Sequence[LoadConfig],
    prices: Sequence[PriceSlot],
    now: datetime,
    start: datetime,
    tz: ZoneInfo,
    progress: Mapping[str, Progress],
    site: SiteState,
) -> BuiltProblem | None:
    """Return the planner problem for the known prices from ``start``, if any."""
    known = horizon_slots(prices, start)
    if not known:
        return None
    known = _with_targets(_with_export_prices(known, site), site)
    pv = site.pv_kw([slot.start for slot in known])
    h0, h1 = known[0].start, known[-1].start + SLOT
    site_base = tuple(round(site.base_kw(slot.start), 4) for slot in known)
    base = list(site_base)
    planner_loads: list[Load] = []
    owners: dict[str, tuple[str, WindowInstance | None]] = {}
    skipped: dict[str, list[PlannedWindow]] = {}
    considered: set[str] = set()
    running: dict[str, list[float]] = {}
    for load in loads:
        done = progress.get(load.id, Progress())
        if isinstance(load, BatteryConfig):
            planner_loads.append(_battery(load, site))
            owners[load.id] = (load.id, None)
            continue
        if isinstance(load, CycleConfig) and (
            kwh := _running_cycle_kwh(load, done, h0, len(base))
        ):
            running[load.id] = kwh
            for index, value in enumerate(kwh):
                base[index] += value / 0.5
        for instance in _instances(load, done, tz=tz, now=now, h0=h0, h1=h1):
            considered.add(f"{load.id}@{instance.key}")
            window = Window(start=max(instance.start, h0), end=min(instance.end, h1))
            item: Load | PlannedWindow | None
            if isinstance(load, CycleConfig):
                item = _cycle(load, instance, window, done)
            else:
                item = _interruptible(load, instance, window, done, site)
            if isinstance(item, PlannedWindow):
                skipped.setdefault(load.id, []).append(item)
            elif item is not None:
                planner_loads.append(item)
                owners[item.id] = (load.id, instance)
    problem = Problem(
        slot_minutes=30,
        slots=tuple(known),
        base_load_kw=tuple(base),
        import_limit_kw=site.import_limit_kw,
        loads=tuple(planner_loads),
        pv_kw=pv if any(pv) else 0.0,
        export_limit_kw=site.export_limit_kw,
    )
    return BuiltProblem(
        problem=problem,
        owners=owners,
        skipped=skipped,
        considered=frozenset(considered),
        running_kwh=running,
        site_base_kw=site.base_load_kw,
        site_base_slots=site_base,
    )


def _running_cycle_kwh(
    load: CycleConfig, done: Progress, h0: datetime, count: int
) -> list[float]:
    """Return the kWh per slot of the rest of cycles that already started."""
    kwh = [0.0] * count
    for started in done.cycle_starts.values():
        for step, value in enumerate(load.profile_kwh):
            slot_start = started + step * SLOT
            if slot_start < h0:
                continue
            index = int((slot_start - h0) / SLOT)
            if index < count:
                kwh[index] += value
    return kwh if any(kwh) else []


def _cycle_costs(built: BuiltProblem) -> dict[str, list[float | None]]:
    """Return, per wet-goods load, the cost of a cycle started in each slot."""
    problem = built.problem
    by_id = {load.id: load for load in problem.loads}
    costs: dict[str, list[float | None]] = {}
    for planner_id, (load_id, _) in built.owners.items():
        load = by_id[planner_id]
        if isinstance(load, CycleLoad):
            row = costs.setdefault(load_id, [None] * len(problem.slots))
            starts = cycle_starts(problem, load)
            for start, cost in zip(starts.fitting, starts.costs, strict=True):
                row[start] = round(cost, 4)
    return costs


def _battery_kw(socs: tuple[float, ...], battery: BatteryConfig) -> tuple[float, ...]:
    """Return a battery's grid flow per slot (kW, + charging) from its SoC track."""
    flows = []
    for before, after in itertools.pairwise(socs):
        change = after - before
        kwh = change / battery.efficiency if change > 0 else change
        flows.append(round(kwh / (SLOT / timedelta(hours=1)), 4))
    return tuple(flows)


def _add_running(
    built: BuiltProblem, on: dict[str, list[bool]], energy: dict[str, list[float]]
) -> None:
    """Show cycles that already started as their load running."""
    for load_id, running in built.running_kwh.items():
        for index, value in enumerate(running):
            if value and load_id in on:
                on[load_id][index] = True
                energy[load_id][index] += value


def _battery_plans(
    plan: Plan,
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[float, ...]]]:
    """Return each battery's modes (mode-driven ones) and SoC track."""
    count = len(plan.problem.slots)
    modes: dict[str, tuple[str, ...]] = {}
    socs: dict[str, tuple[float, ...]] = {}
    batteries = [load for load in plan.problem.loads if isinstance(load, Battery)]
    for number, battery in enumerate(batteries):
        offset = number * (count + 1)
        socs[battery.id] = tuple(
            round(soc, 4) for soc in plan.soc_kwh[offset : offset + count + 1]
        )
        if battery.control == "modes":
            mode = plan.decisions.mode.get(battery.id, ())
            modes[battery.id] = tuple(BatteryMode(item).value for item in mode)
    return modes, socs


def schedule_from_plan(
    built: BuiltProblem, plan: Plan, loads: Sequence[LoadConfig], now: datetime
) -> Schedule:
    """Fold the planner's per-window decisions back into per-load schedules."""
    problem = built.problem
    count = len(problem.slots)
    prices = problem.prices
    on: dict[str, list[bool]] = {load.id: [False] * count for load in loads}
    energy: dict[str, list[float]] = {load.id: [0.0] * count for load in loads}
    windows: dict[str, list[PlannedWindow]] = {
        load_id: list(skipped) for load_id, skipped in built.skipped.items()
    }
    modes, socs = _battery_plans(plan)
    by_id = {load.id: load for load in problem.loads}
    for planner_id, (load_id, instance) in built.owners.items():
        load = by_id[planner_id]
        explanation = plan.explain.get(planner_id)
        if isinstance(load, Battery):
            continue
        assert instance is not None  # noqa: S101 - only batteries have none
        if isinstance(load, CycleLoad):
            start = plan.decisions.start.get(planner_id)
            cycle_start = None
            cycle_cost = None
            if start is not None:
                cycle_start = problem.slots[start].start
                cycle_cost = sum(
                    kwh * prices[start + step]
                    for step, kwh in enumerate(load.profile_kwh)
                )
                for step, kwh in enumerate(load.profile_kwh):
                    on[load_id][start + step] = True
                    energy[load_id][start + step] += kwh
            windows.setdefault(load_id, []).append(
                PlannedWindow(
                    key=instance.key,
                    start=instance.start,
                    end=instance.end,
                    planned_slots=len(load.profile_kwh) if start is not None else 0,
                    cycle_start=cycle_start,
                    cycle_cost=cycle_cost,
                    deferred=start is None,
                    summary=explanation.summary if explanation else "",
                    unpriced_from=problem.end if instance.end > problem.end else None,
                )
            )
            continue
        flags = plan.decisions.on.get(planner_id, ())
        for index, flag in enumerate(flags):
            if flag:
                on[load_id][index] = True
                energy[load_id][index] += load.power_kw * problem.slot_hours
        windows.setdefault(load_id, []).append(
            PlannedWindow(
                key=instance.key,
                start=instance.start,
                end=instance.end,
                planned_slots=sum(flags),
                shortfall_slots=explanation.shortfall_slots if explanation else 0,
                summary=explanation.summary if explanation else "",
                unpriced_from=problem.end if instance.end > problem.end else None,
            )
        )
    _add_running(built, on, energy)
    costs = _cycle_costs(built)
    schedules = {}
    for config in loads:
        load_energy = energy[config.id]
        if config.id in socs and isinstance(config, BatteryConfig):
            battery_kw = _battery_kw(socs[config.id], config)
            load_energy = [kw * problem.slot_hours for kw in battery_kw]
        schedules[config.id] = LoadSchedule(
            load_id=config.id,
            on=tuple(on[config.id]),
            modes=modes.get(config.id),
            soc_kwh=socs.get(config.id),
            cycle_costs=tuple(costs[config.id]) if config.id in costs else None,
            kw=tuple(round(kwh / problem.slot_hours, 4) for kwh in load_energy),
            energy_kwh=round(sum(load_energy), 4),
            cost=round(sum(e * p for e, p in zip(load_energy, prices, strict=True)), 4),
            windows=tuple(sorted(windows.get(config.id, []), key=lambda w: w.start)),
        )
    return Schedule(
        created=now,
        slot_starts=tuple(slot.start for slot in problem.slots),
        # None where the price is not known yet (never shown as a price).
        prices=tuple(slot.price for slot in problem.slots),
        loads=schedules,
        cost=round(plan.cost, 4),
        base_load_kw=built.site_base_kw,
        import_limit_kw=problem.import_limit_kw,
        notes=plan.notes,
        limit_violation_kwh=plan.limit_violation_kwh,
        considered=built.considered,
        base_kw=built.site_base_slots,
        pv_kw=_per_slot(problem.pv_kw, count) if problem.has_pv else (),
        export_prices=tuple(slot.export_price for slot in problem.slots)
        if any(slot.export_price is not None for slot in problem.slots)
        else (),
        export_limit_kw=problem.export_limit_kw,
        sun=_with_names(plan.sun, built, loads),
        import_caps_kw=_asked(slot.max_import_kw for slot in problem.slots),
        import_targets_kw=_asked(slot.min_import_kw for slot in problem.slots),
        import_shortfall_kwh=round(plan.import_shortfall_kwh, 4),
        import_excess_kwh=round(plan.import_excess_kwh, 4),
    )


def _asked(values: Iterable[float | None]) -> tuple[float | None, ...]:
    """Return a per-slot column, or () if nothing is asked anywhere."""
    column = tuple(values)
    return column if any(kw is not None for kw in column) else ()


def _with_names(text: str, built: BuiltProblem, loads: Sequence[LoadConfig]) -> str:
    """Return the planner's words with its load ids as the loads' names."""
    names = {load.id: load.name for load in loads}
    # Longest first: a window's id ("load@key") before its load's.
    for planner_id in sorted(built.owners, key=len, reverse=True):
        load_id = built.owners[planner_id][0]
        text = text.replace(planner_id, names.get(load_id, load_id))
    return text


def _per_slot(value: tuple[float, ...] | float, count: int) -> tuple[float, ...]:
    return value if isinstance(value, tuple) else (float(value),) * count


def instance_at(
    window: DailyWindow,
    tz: ZoneInfo,
    when: datetime,
    requirement: tuple[WindowInstance, int] | None = None,
) -> WindowInstance | None:
    """Return the window instance (or one-off requirement) containing ``when``."""
    if requirement is not None and requirement[0].start <= when < requirement[0].end:
        return requirement[0]
    day = when.astimezone(tz).date()
    for instance in window_instances(window, tz, day - timedelta(days=1), day):
        if instance.start <= when < instance.end:
            return instance
    return None


def keep_current_slot(
    old: Schedule | None, new: Schedule, current: datetime
) -> Schedule:
    """Prefix ``new`` (planned from the next slot) with ``old``'s running slot."""
    if old is None or (index := old.index(current)) is None:
        return new
    if new.slot_starts and new.slot_starts[0] != current + SLOT:
        return new
    loads = {}
    for load_id, load in new.loads.items():
        previous = old.loads.get(load_id)
        on = previous.on[index] if previous else False
        modes = load.modes
        if modes is not None:
            prior = previous.modes if previous and previous.modes else None
            modes = (prior[index] if prior else BatteryMode.NORMAL.value, *modes)
        socs = load.soc_kwh
        if socs is not None:
            prior_soc = previous.soc_kwh if previous and previous.soc_kwh else None
            socs = (prior_soc[index] if prior_soc else socs[0], *socs)
        cycle_costs = load.cycle_costs
        if cycle_costs is not None:
            cycle_costs = (None, *cycle_costs)
        kw = (previous.kw[index] if previous and previous.kw else 0.0, *load.kw)
        loads[load_id] = LoadSchedule(
            load_id=load_id,
            on=(on, *load.on),
            modes=modes,
            soc_kwh=socs,
            cycle_costs=cycle_costs,
            kw=kw,
            energy_kwh=load.energy_kwh,
            cost=load.cost,
            windows=load.windows,
        )
    return Schedule(
        created=new.created,
        slot_starts=(current, *new.slot_starts),
        prices=(old.prices[index], *new.prices),
        loads=loads,
        cost=new.cost,
        base_load_kw=new.base_load_kw,
        import_limit_kw=new.import_limit_kw,
        notes=new.notes,
        limit_violation_kwh=new.limit_violation_kwh,
        considered=new.considered,
        base_kw=(old.base_load()[index], *new.base_load()) if new.base_kw else (),
        pv_kw=(_at(old.pv_kw, index, 0.0), *new.pv_kw) if new.pv_kw else (),
        export_prices=(_at(old.export_prices, index, None), *new.export_prices)
        if new.export_prices
        else (),
        export_limit_kw=new.export_limit_kw,
        sun=new.sun,
        import_caps_kw=(_at(old.import_caps_kw, index, None), *new.import_caps_kw)
        if new.import_caps_kw
        else (),
        import_targets_kw=(
            _at(old.import_targets_kw, index, None),
            *new.import_targets_kw,
        )
        if new.import_targets_kw
        else (),
        import_shortfall_kwh=new.import_shortfall_kwh,
        import_excess_kwh=new.import_excess_kwh,
    )


def _at[T](values: Sequence[T], index: int, default: T) -> T:
    """Return ``values[index]``, or ``default`` where there is none."""
    return values[index] if index < len(values) else default


def load_runs(schedule: Schedule, load_id: str) -> list[tuple[datetime, datetime]]:
    """Return a load's planned runs as (start, end), contiguous slots merged."""
    load = schedule.loads.get(load_id)
    if load is None:
        return []
    runs: list[tuple[datetime, datetime]] = []
    for start, on in zip(schedule.slot_starts, load.on, strict=True):
        if not on:
            continue
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], start + SLOT)
        else:
            runs.append((start, start + SLOT))
    return runs


def next_start(schedule: Schedule, load_id: str, now: datetime) -> datetime | None:
    """Return the start of the next run beginning after ``now``."""
    return next(
        (start for start, _ in load_runs(schedule, load_id) if start > now), None
    )


def next_stop(schedule: Schedule, load_id: str, now: datetime) -> datetime | None:
    """Return the end of the current run, or of the next one."""
    return next((end for _, end in load_runs(schedule, load_id) if end > now), None)


def next_instance(
    window: DailyWindow, tz: ZoneInfo, now: datetime
) -> WindowInstance | None:
    """Return the window instance running at ``now``, or the next one."""
    day = now.astimezone(tz).date()
    return next(
        (
            instance
            for instance in window_instances(
                window, tz, day - timedelta(days=1), day + timedelta(days=1)
            )
            if instance.end > now
        ),
        None,
    )
