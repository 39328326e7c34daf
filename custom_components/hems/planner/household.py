"""Household YAML for backtests: loads with daily requirements in local time.

See docs/planner.md for the format.  Each local day D gets one problem: the
horizon runs from the plan time (16:45, so from 17:00) to the end of the known
prices (23:00 on D+1); the loads' daily windows are resolved in the household's
time zone (DST aware) inside the committed day [17:00 D, 17:00 D+1).  The
site may have a PV array (a half-hourly profile per kWp), an export limit and
a fixed export price.
"""

import csv
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .errors import ProblemError
from .models import Battery, CycleLoad, InterruptibleLoad, Load, Window
from .problem_io import parse_problem, show
from .pv_profile import PvArray, read_pv_profile
from .user_files import shown, user_path
from .validation import MAX_MAGNITUDE

_TOP = {
    "timezone",
    "plan_time",
    "flat_price",
    "base_load_kw",
    "import_limit_kw",
    "export_limit_kw",
    "export_price",
    "flat_export_price",
    "pv",
    "profiles",
    "rules",
    "loads",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadSpec:
    """A load with its window as local times of day (or the whole day)."""

    load: Load
    window: tuple[time, time] | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Household:
    """A household description for backtests."""

    timezone: ZoneInfo
    plan_time: time
    flat_price: float
    base_load_kw: float | tuple[float, ...]  # constant or 48 half-hourly values
    import_limit_kw: float | None
    discharge_above: float | None
    loads: tuple[LoadSpec, ...]
    export_limit_kw: float | None = None
    export_price: float | None = None  # a fixed export rate, p/kWh
    flat_export_price: float = 0.0
    pv: PvArray | None = None

    def day_start(self, day: date) -> datetime:
        """First slot after the plan time on ``day`` (UTC)."""
        local = datetime.combine(day, self.plan_time, self.timezone)
        minute = (local.minute // 30 + 1) * 30
        start = local.replace(minute=0) + timedelta(minutes=minute)
        return start.astimezone(UTC)

    def base_at(self, moment: datetime) -> float:
        """Return the base load (kW) at a UTC instant."""
        if isinstance(self.base_load_kw, tuple):
            local = moment.astimezone(self.timezone)
            return self.base_load_kw[(local.hour * 60 + local.minute) // 30]
        return self.base_load_kw

    def window(self, spec: LoadSpec, begin: datetime, end: datetime) -> Window:
        """Return the load's window in the committed day [begin, end), UTC."""
        if spec.window is None:
            return Window(start=begin, end=end)
        local_begin = begin.astimezone(self.timezone)
        first = datetime.combine(local_begin.date(), spec.window[0], self.timezone)
        if first.astimezone(UTC) < begin:
            first = datetime.combine(
                local_begin.date() + timedelta(days=1), spec.window[0], self.timezone
            )
        last = datetime.combine(first.date(), spec.window[1], self.timezone)
        if last <= first:
            last = datetime.combine(
                first.date() + timedelta(days=1), spec.window[1], self.timezone
            )
        return Window(start=first.astimezone(UTC), end=min(last.astimezone(UTC), end))


def _time(value: Any, field: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ProblemError(field, f"not a time of day HH:MM: {show(value)}") from None


def _number(value: Any, field: str) -> float:
    """Return ``value`` if a finite number within the planner's bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(field, f"must be a number, got {show(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
        raise ProblemError(
            field,
            f"must be a finite number between {-MAX_MAGNITUDE:g} and "
            f"{MAX_MAGNITUDE:g}, got {number:g}",
        )
    return number


def read_profiles(path: Path) -> dict[str, tuple[float, ...]]:
    """Measured cycles: profile id -> kWh per 30-minute slot."""
    rows: dict[str, dict[int, float]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"profile_id", "slot_index", "energy_kwh"} - set(
            reader.fieldnames or ()
        )
        if missing:
            raise ProblemError(
                "profiles", f"{shown(path)}: no column {', '.join(sorted(missing))}"
            )
        for line, row in enumerate(reader, start=2):
            try:
                index = int(row["slot_index"])
                rows.setdefault(row["profile_id"], {})[index] = float(row["energy_kwh"])
            except TypeError, ValueError:  # a missing or non-numeric field
                raise ProblemError(
                    "profiles", f"{shown(path)}: line {line}: not a profile row"
                ) from None
    return {k: tuple(v[i] for i in sorted(v)) for k, v in rows.items()}


def _load(raw: Any, field: str, profiles: dict[str, tuple[float, ...]]) -> LoadSpec:
    if not isinstance(raw, dict):
        raise ProblemError(field, "must be a mapping")
    item = dict(raw)
    window_raw = item.pop("window", None)
    window = None
    if window_raw is not None:
        if not isinstance(window_raw, dict) or set(window_raw) != {"start", "end"}:
            raise ProblemError(f"{field}.window", "needs start and end (HH:MM)")
        window = (
            _time(window_raw["start"], f"{field}.window.start"),
            _time(window_raw["end"], f"{field}.window.end"),
        )
    hours = "hours" in item
    if hours:
        item["slots"] = round(_number(item.pop("hours"), f"{field}.hours") * 2)
    if "profile" in item:
        name = item.pop("profile")
        if not isinstance(name, str) or name not in profiles:
            raise ProblemError(f"{field}.profile", f"unknown profile {show(name)}")
        item["profile_kwh"] = list(profiles[name])
    # validate through the problem parser on a one-slot dummy horizon
    dummy = {"slots": [{"start": "2000-01-01T00:00:00Z", "price": 0}], "loads": [item]}
    try:
        load = parse_problem(dummy).loads[0]
    except ProblemError as err:
        where = err.field.replace("loads[0]", field)
        if hours and where == f"{field}.slots":
            where = f"{field}.hours"
        raise ProblemError(where, err.reason) from None
    return LoadSpec(load=load, window=window)


def _site(
    data: dict[Any, Any],
) -> tuple[float | tuple[float, ...], float | None, float | None]:
    """Return the base load and the import and export limits, checked by the parser."""
    base = data.get("base_load_kw", 0.0)
    if isinstance(base, list) and len(base) != 48:  # noqa: PLR2004 - half-hours
        raise ProblemError("base_load_kw", "a list needs 48 half-hourly values")
    slots = [
        {"start": f"2000-01-01T{i // 2:02d}:{30 * (i % 2):02d}:00Z", "price": 0}
        for i in range(48 if isinstance(base, list) else 1)
    ]
    site = {"slots": slots, "base_load_kw": base}
    site["import_limit_kw"] = data.get("import_limit_kw")
    site["export_limit_kw"] = data.get("export_limit_kw")
    problem = parse_problem(site)
    return problem.base_load_kw, problem.import_limit_kw, problem.export_limit_kw


def _file(named: Any, base_dir: Path, field: str) -> Path:
    """Return where a file named in the YAML is (relative to the YAML's folder)."""
    if not isinstance(named, str) or not named:
        raise ProblemError(field, f"must be a file name, got {show(named)}")
    given = Path(named)
    return user_path(given if given.is_absolute() else Path(shown(base_dir)) / given)


def _pv(raw: Any, base_dir: Path) -> PvArray | None:
    """Return the PV array: ``{kwp, profile, year}`` (``year`` optional)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not {"kwp", "profile"} <= set(raw):
        raise ProblemError("pv", "needs kwp and profile (a half-hourly PV CSV)")
    unknown = set(raw) - {"kwp", "profile", "year"}
    if unknown:
        raise ProblemError(f"pv.{min(map(str, unknown))}", "unknown field")
    kwp = _number(raw["kwp"], "pv.kwp")
    if kwp < 0:
        raise ProblemError("pv.kwp", f"must be at least 0, got {kwp:g}")
    year = raw.get("year")
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999  # noqa: PLR2004
    ):
        raise ProblemError("pv.year", f"must be a year (1 to 9999), got {show(year)}")
    per_kwp = read_pv_profile(_file(raw["profile"], base_dir, "pv.profile"))
    return PvArray(kwp=kwp, per_kwp=per_kwp, year=year)


def _profiles(named: Any, base_dir: Path) -> dict[str, tuple[float, ...]]:
    if not named:
        return {}
    path = _file(str(named), base_dir, "profiles")
    try:
        return read_profiles(path)
    except OSError as err:
        raise ProblemError(
            "profiles", f"{shown(path)}: {err.strerror or err}"
        ) from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise ProblemError(
            "profiles", f"{shown(path)}: not a profile CSV ({err})"
        ) from None


def parse_household(data: Any, *, base_dir: Path) -> Household:
    """Build a :class:`Household` from decoded YAML (paths relative to ``base_dir``)."""
    if not isinstance(data, dict):
        raise ProblemError("household", "must be a mapping")
    for key in data:
        if key not in _TOP:
            raise ProblemError(str(key), "unknown field")
    profiles = _profiles(data.get("profiles"), base_dir)
    base, limit, export_limit = _site(data)
    rules = data.get("rules") or {}
    if not isinstance(rules, dict) or set(rules) - {"battery_discharge_above"}:
        raise ProblemError("rules", "may only hold battery_discharge_above")
    above = rules.get("battery_discharge_above")
    loads_raw = data.get("loads") or []
    if not isinstance(loads_raw, list):
        raise ProblemError("loads", "must be a list")
    loads = tuple(
        _load(raw, f"loads[{i}]", profiles) for i, raw in enumerate(loads_raw)
    )
    if not loads:
        raise ProblemError("loads", "at least one load is needed")
    try:
        zone = ZoneInfo(str(data.get("timezone", "Europe/London")))
    except KeyError, ValueError, OSError:
        raise ProblemError(
            "timezone", f"unknown time zone {show(data.get('timezone'))}"
        ) from None
    return Household(
        timezone=zone,
        plan_time=_time(data.get("plan_time", "16:45"), "plan_time"),
        flat_price=_number(data.get("flat_price", 24.5), "flat_price"),
        base_load_kw=base,
        import_limit_kw=limit,
        discharge_above=None
        if above is None
        else _number(above, "rules.battery_discharge_above"),
        loads=loads,
        export_limit_kw=export_limit,
        export_price=None
        if data.get("export_price") is None
        else _number(data["export_price"], "export_price"),
        flat_export_price=_number(
            data.get("flat_export_price", 0.0), "flat_export_price"
        ),
        pv=_pv(data.get("pv"), base_dir),
    )


def battery_with_soc(load: Load, soc: float) -> Load:
    """Return the battery with a new starting SoC (other loads unchanged)."""
    if isinstance(load, Battery):
        return replace(load, soc_kwh=min(max(soc, 0.0), load.capacity_kwh))
    return load


def with_window(load: Load, window: Window) -> Load:
    """Return the load with its window replaced (batteries have none)."""
    match load:
        case InterruptibleLoad():
            return InterruptibleLoad(
                id=load.id,
                power_kw=load.power_kw,
                slots=load.slots,
                window=window,
                max_price=load.max_price,
                opportunistic_price=load.opportunistic_price,
            )
        case CycleLoad():
            return CycleLoad(
                id=load.id,
                profile_kwh=load.profile_kwh,
                window=window,
                max_cost=load.max_cost,
            )
        case Battery():
            return load
