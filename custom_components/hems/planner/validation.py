"""Semantic checks of a :class:`Problem`; errors name the JSON field."""

from datetime import UTC, datetime, timedelta
import math

from .errors import ProblemError
from .models import (
    DEFAULT_MODES,
    Battery,
    BatteryMode,
    CycleLoad,
    InterruptibleLoad,
    Problem,
    Slot,
    Window,
)

MAX_SLOT_MINUTES = 24 * 60
# Bound of every number (p/kWh, kW, kWh, p): far beyond any household, and
# small enough that no sum of costs can overflow to infinity.
MAX_MAGNITUDE = 1e9


def _finite(value: float, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(field, "must be a number")
    if not math.isfinite(value):
        raise ProblemError(field, "must be a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise ProblemError(
            field,
            f"must be between {-MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}, got {value:g}",
        )


def _at_least(value: float, low: float, field: str) -> None:
    _finite(value, field)
    if value < low:
        raise ProblemError(field, f"must be >= {low:g}, got {value:g}")


def _positive(value: float, field: str) -> None:
    _finite(value, field)
    if value <= 0:
        raise ProblemError(field, f"must be > 0, got {value:g}")


def _utc(moment: datetime, field: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ProblemError(field, "must be a timezone-aware UTC datetime")


def _window(window: Window | None, problem: Problem, field: str) -> None:
    if window is None:
        return
    _utc(window.start, f"{field}.start")
    _utc(window.end, f"{field}.end")
    if window.end <= window.start:
        raise ProblemError(f"{field}.end", "must be after window.start")
    if window.end <= problem.slots[0].start or window.start >= problem.end:
        raise ProblemError(
            field,
            f"outside the horizon {problem.slots[0].start:%Y-%m-%dT%H:%MZ}"
            f"..{problem.end:%Y-%m-%dT%H:%MZ}",
        )


def _slot_ends(problem: Problem) -> None:
    """Every slot must end by the year 9999 (datetime's last)."""
    last = datetime.max.replace(tzinfo=UTC) - problem.slot_length
    for i, slot in enumerate(problem.slots):
        _utc(slot.start, f"slots[{i}].start")
        if slot.start > last:
            raise ProblemError(
                f"slots[{i}].start", "the slot would end after the year 9999"
            )


def _slots(problem: Problem) -> None:
    minutes = problem.slot_minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ProblemError("slot_minutes", "must be an integer")
    if not 0 < minutes <= MAX_SLOT_MINUTES:
        raise ProblemError("slot_minutes", f"must be in 1..{MAX_SLOT_MINUTES}")
    if not problem.slots:
        raise ProblemError("slots", "must not be empty")
    length = problem.slot_length
    _slot_ends(problem)
    for i, slot in enumerate(problem.slots):
        _utc(slot.start, f"slots[{i}].start")
        if slot.price is not None:  # None: not known yet
            _finite(slot.price, f"slots[{i}].price")
        if slot.export_price is not None:
            _finite(slot.export_price, f"slots[{i}].export_price")
        _targets(problem, slot, f"slots[{i}]")
        if i and slot.start != problem.slots[i - 1].start + length:
            expected = problem.slots[i - 1].start + length
            raise ProblemError(
                f"slots[{i}].start",
                f"expected {expected:%Y-%m-%dT%H:%M:%SZ}: slots must be "
                f"contiguous and ascending, {minutes} minutes apart",
            )


def _targets(problem: Problem, slot: Slot, field: str) -> None:
    """Check a slot's import cap and minimum (>= 0, the minimum at most the caps)."""
    if slot.max_import_kw is not None:
        _at_least(slot.max_import_kw, 0, f"{field}.max_import_kw")
    if slot.min_import_kw is None:
        return
    _at_least(slot.min_import_kw, 0, f"{field}.min_import_kw")
    caps = [
        (kw, name)
        for kw, name in (
            (slot.max_import_kw, "its max_import_kw"),
            (problem.import_limit_kw, "the import limit"),
        )
        if kw is not None
    ]
    for kw, name in caps:
        if slot.min_import_kw > kw:
            raise ProblemError(
                f"{field}.min_import_kw",
                f"{slot.min_import_kw:g} kW is above {name} ({kw:g} kW)",
            )


def _per_slot(values: tuple[float, ...] | float, problem: Problem, field: str) -> None:
    """Check a number or one number per slot, each >= 0."""
    if isinstance(values, tuple):
        if len(values) != len(problem.slots):
            raise ProblemError(
                field, f"has {len(values)} values for {len(problem.slots)} slots"
            )
        for i, value in enumerate(values):
            _at_least(value, 0, f"{field}[{i}]")
    else:
        _at_least(values, 0, field)


def _site(problem: Problem) -> None:
    _per_slot(problem.base_load_kw, problem, "base_load_kw")
    _per_slot(problem.pv_kw, problem, "pv_kw")
    if problem.import_limit_kw is not None:
        _positive(problem.import_limit_kw, "import_limit_kw")
    if problem.export_limit_kw is not None:
        _at_least(problem.export_limit_kw, 0, "export_limit_kw")


def _interruptible(load: InterruptibleLoad, problem: Problem, field: str) -> None:
    _positive(load.power_kw, f"{field}.power_kw")
    if isinstance(load.slots, bool) or not isinstance(load.slots, int):
        raise ProblemError(f"{field}.slots", "must be an integer")
    if load.slots < 0:
        raise ProblemError(f"{field}.slots", "must be >= 0")
    _window(load.window, problem, f"{field}.window")
    if load.max_price is not None:
        _finite(load.max_price, f"{field}.max_price")
    if load.opportunistic_price is not None:
        _finite(load.opportunistic_price, f"{field}.opportunistic_price")


def _cycle(load: CycleLoad, problem: Problem, field: str) -> None:
    if not load.profile_kwh:
        raise ProblemError(f"{field}.profile_kwh", "must not be empty")
    for i, value in enumerate(load.profile_kwh):
        _at_least(value, 0, f"{field}.profile_kwh[{i}]")
    _window(load.window, problem, f"{field}.window")
    if load.max_cost is not None:
        _finite(load.max_cost, f"{field}.max_cost")


def _modes(load: Battery, field: str) -> None:
    if load.control not in {"modes", "power"}:
        raise ProblemError(
            f"{field}.control", f"must be 'modes' or 'power', got {load.control!r}"
        )
    if load.control == "power":
        if tuple(load.modes) != DEFAULT_MODES:
            raise ProblemError(
                f"{field}.modes", "power control takes a setpoint, not modes"
            )
        return
    if not isinstance(load.modes, tuple) or not load.modes:
        raise ProblemError(f"{field}.modes", "must be a non-empty list of modes")
    known = {str(mode) for mode in BatteryMode}
    seen: set[str] = set()
    for i, mode in enumerate(load.modes):
        if not isinstance(mode, str) or mode not in known:
            raise ProblemError(
                f"{field}.modes[{i}]",
                f"unknown mode {mode!r} ({', '.join(sorted(known))})",
            )
        if mode in seen:
            raise ProblemError(f"{field}.modes[{i}]", f"duplicate mode {mode!r}")
        seen.add(mode)
    if BatteryMode.CHARGE_ONLY not in seen:
        raise ProblemError(
            f"{field}.modes",
            "must include charge_only (the battery holds in a slot without a price)",
        )


def _battery(load: Battery, field: str) -> None:
    _positive(load.capacity_kwh, f"{field}.capacity_kwh")
    for name in ("soc_kwh", "min_soc_kwh"):
        value = getattr(load, name)
        _at_least(value, 0, f"{field}.{name}")
        if value > load.capacity_kwh:
            raise ProblemError(f"{field}.{name}", "must not exceed capacity_kwh")
    if load.soc_kwh < load.min_soc_kwh:
        raise ProblemError(
            f"{field}.soc_kwh",
            f"must be >= min_soc_kwh {load.min_soc_kwh:g}, got {load.soc_kwh:g}",
        )
    _at_least(load.charge_kw, 0, f"{field}.charge_kw")
    _at_least(load.discharge_kw, 0, f"{field}.discharge_kw")
    _positive(load.efficiency, f"{field}.efficiency")
    if load.efficiency > 1:
        raise ProblemError(f"{field}.efficiency", "must be <= 1")
    _modes(load, field)


def validate_problem(problem: Problem) -> None:
    """Raise :class:`ProblemError` naming the first invalid field."""
    _slots(problem)
    _site(problem)
    seen: set[str] = set()
    batteries = 0
    for i, load in enumerate(problem.loads):
        field = f"loads[{i}]"
        if not isinstance(load.id, str) or not load.id:
            raise ProblemError(f"{field}.id", "must be a non-empty string")
        if load.id in seen:
            raise ProblemError(f"{field}.id", f"duplicate id {load.id!r}")
        seen.add(load.id)
        match load:
            case InterruptibleLoad():
                _interruptible(load, problem, field)
            case CycleLoad():
                _cycle(load, problem, field)
            case Battery():
                batteries += 1
                if batteries > 1:
                    raise ProblemError(field, "only one battery is supported")
                _battery(load, field)
