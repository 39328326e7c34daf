"""Problem and plan JSON (the CLI contract, documented in docs/planner.md)."""

from collections.abc import Mapping
from datetime import UTC, datetime
import reprlib
from typing import Any

from .errors import ProblemError
from .models import (
    DEFAULT_MODES,
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
from .validation import MAX_MAGNITUDE, validate_problem

_TOP = {
    "slot_minutes",
    "slots",
    "base_load_kw",
    "import_limit_kw",
    "loads",
    "pv_kw",
    "export_limit_kw",
}
_FIELDS: dict[str, tuple[set[str], set[str]]] = {  # type: (required, optional)
    "interruptible": (
        {"id", "type", "power_kw", "slots"},
        {"window", "max_price", "opportunistic_price"},
    ),
    "cycle": ({"id", "type", "profile_kwh"}, {"window", "max_cost"}),
    "battery": (
        {"id", "type", "capacity_kwh", "soc_kwh", "charge_kw", "discharge_kw"},
        {"min_soc_kwh", "efficiency", "control", "modes"},
    ),
}


_SHORT = reprlib.Repr(maxlevel=2, maxstring=40, maxother=40, maxlist=4, maxdict=4)


def show(value: Any) -> str:
    """Return a short repr of any input value, however deep or big, for messages."""
    return _SHORT.repr(value)


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProblemError(field, "must be an object")
    return value


def _keys(
    obj: Mapping[str, Any], required: set[str], optional: set[str], field: str
) -> None:
    for key in sorted(required - obj.keys()):
        raise ProblemError(f"{field}.{key}" if field else key, "is required")
    for key in sorted(obj.keys() - required - optional, key=str):
        raise ProblemError(f"{field}.{key}" if field else key, "unknown field")


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(field, f"must be a number, got {show(value)}")
    try:
        return float(value)
    except OverflowError:  # an int beyond any float
        raise ProblemError(
            field, f"must be between {-MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}"
        ) from None


def _optional_number(value: Any, field: str) -> float | None:
    return None if value is None else _number(value, field)


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(field, f"must be an integer, got {show(value)}")
    return value


def _time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise ProblemError(field, "must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ProblemError(field, f"not an ISO 8601 date-time: {show(value)}") from None
    if moment.tzinfo is None:
        raise ProblemError(field, f"needs a timezone (e.g. 'Z'): {show(value)}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ProblemError(
            field, f"outside the years 1 to 9999 in UTC: {show(value)}"
        ) from None


def _window(value: Any, field: str) -> Window | None:
    if value is None:
        return None
    obj = _object(value, field)
    _keys(obj, {"start", "end"}, set(), field)
    return Window(
        start=_time(obj["start"], f"{field}.start"),
        end=_time(obj["end"], f"{field}.end"),
    )


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemError(field, "must be a list")
    return value


def _load(value: Any, field: str) -> Load:
    obj = _object(value, field)
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise ProblemError(
            f"{field}.type",
            f"unknown load type {show(kind)} (interruptible, cycle, battery)",
        )
    _keys(obj, *_FIELDS[kind], field)
    load_id = obj["id"]
    if not isinstance(load_id, str):
        raise ProblemError(f"{field}.id", "must be a string")
    if kind == "interruptible":
        return InterruptibleLoad(
            id=load_id,
            power_kw=_number(obj["power_kw"], f"{field}.power_kw"),
            slots=_integer(obj["slots"], f"{field}.slots"),
            window=_window(obj.get("window"), f"{field}.window"),
            max_price=_optional_number(obj.get("max_price"), f"{field}.max_price"),
            opportunistic_price=_optional_number(
                obj.get("opportunistic_price"), f"{field}.opportunistic_price"
            ),
        )
    if kind == "cycle":
        profile = _list(obj["profile_kwh"], f"{field}.profile_kwh")
        return CycleLoad(
            id=load_id,
            profile_kwh=tuple(
                _number(v, f"{field}.profile_kwh[{i}]") for i, v in enumerate(profile)
            ),
            window=_window(obj.get("window"), f"{field}.window"),
            max_cost=_optional_number(obj.get("max_cost"), f"{field}.max_cost"),
        )
    control = obj.get("control", "modes")
    if control not in {"modes", "power"}:
        raise ProblemError(
            f"{field}.control", f"must be 'modes' or 'power', got {show(control)}"
        )
    modes: tuple[BatteryMode, ...] = DEFAULT_MODES
    if "modes" in obj:
        if control == "power":
            raise ProblemError(
                f"{field}.modes", "power control takes a setpoint, not modes"
            )
        modes = _modes(obj["modes"], f"{field}.modes")
    return Battery(
        id=load_id,
        control=control,
        modes=modes,
        capacity_kwh=_number(obj["capacity_kwh"], f"{field}.capacity_kwh"),
        soc_kwh=_number(obj["soc_kwh"], f"{field}.soc_kwh"),
        min_soc_kwh=_number(obj.get("min_soc_kwh", 0.0), f"{field}.min_soc_kwh"),
        charge_kw=_number(obj["charge_kw"], f"{field}.charge_kw"),
        discharge_kw=_number(obj["discharge_kw"], f"{field}.discharge_kw"),
        efficiency=_number(obj.get("efficiency", 1.0), f"{field}.efficiency"),
    )


def _modes(value: Any, field: str) -> tuple[BatteryMode, ...]:
    known = {str(mode) for mode in BatteryMode}
    modes: list[BatteryMode] = []
    for i, raw in enumerate(_list(value, field)):
        if not isinstance(raw, str) or raw not in known:
            raise ProblemError(
                f"{field}[{i}]",
                f"unknown mode {show(raw)} ({', '.join(sorted(known))})",
            )
        modes.append(BatteryMode(raw))
    return tuple(modes)


def _per_slot(value: Any, field: str) -> float | tuple[float, ...]:
    if isinstance(value, list):
        return tuple(_number(v, f"{field}[{i}]") for i, v in enumerate(value))
    return _number(value, field)


def parse_problem(data: Any) -> Problem:
    """Build and validate a :class:`Problem` from decoded JSON."""
    obj = _object(data, "problem")
    _keys(obj, {"slots"}, _TOP - {"slots"}, "")
    slots = []
    for i, raw in enumerate(_list(obj["slots"], "slots")):
        item = _object(raw, f"slots[{i}]")
        _keys(
            item,
            {"start", "price"},
            {"export_price", "max_import_kw", "min_import_kw"},
            f"slots[{i}]",
        )
        slots.append(
            Slot(
                start=_time(item["start"], f"slots[{i}].start"),
                price=_optional_number(item["price"], f"slots[{i}].price"),
                export_price=_optional_number(
                    item.get("export_price"), f"slots[{i}].export_price"
                ),
                max_import_kw=_optional_number(
                    item.get("max_import_kw"), f"slots[{i}].max_import_kw"
                ),
                min_import_kw=_optional_number(
                    item.get("min_import_kw"), f"slots[{i}].min_import_kw"
                ),
            )
        )
    problem = Problem(
        slot_minutes=_integer(obj.get("slot_minutes", 30), "slot_minutes"),
        slots=tuple(slots),
        base_load_kw=_per_slot(obj.get("base_load_kw", 0.0), "base_load_kw"),
        pv_kw=_per_slot(obj.get("pv_kw", 0.0), "pv_kw"),
        export_limit_kw=_optional_number(obj.get("export_limit_kw"), "export_limit_kw"),
        import_limit_kw=_optional_number(obj.get("import_limit_kw"), "import_limit_kw"),
        loads=tuple(
            _load(raw, f"loads[{i}]")
            for i, raw in enumerate(_list(obj.get("loads", []), "loads"))
        ),
    )
    validate_problem(problem)
    return problem


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with a ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window_json(window: Window | None) -> dict[str, str] | None:
    if window is None:
        return None
    return {"start": format_time(window.start), "end": format_time(window.end)}


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """Return the JSON form of ``problem`` (inverse of :func:`parse_problem`)."""
    loads: list[dict[str, Any]] = []
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                loads.append(
                    {
                        "id": load.id,
                        "type": "interruptible",
                        "power_kw": load.power_kw,
                        "slots": load.slots,
                        "window": _window_json(load.window),
                        "max_price": load.max_price,
                        "opportunistic_price": load.opportunistic_price,
                    }
                )
            case CycleLoad():
                loads.append(
                    {
                        "id": load.id,
                        "type": "cycle",
                        "profile_kwh": list(load.profile_kwh),
                        "window": _window_json(load.window),
                        "max_cost": load.max_cost,
                    }
                )
            case Battery():
                battery: dict[str, Any] = {
                    "id": load.id,
                    "type": "battery",
                    "capacity_kwh": load.capacity_kwh,
                    "soc_kwh": load.soc_kwh,
                    "min_soc_kwh": load.min_soc_kwh,
                    "charge_kw": load.charge_kw,
                    "discharge_kw": load.discharge_kw,
                    "efficiency": load.efficiency,
                }
                if load.control != "modes":
                    battery["control"] = load.control
                elif tuple(load.modes) != DEFAULT_MODES:
                    battery["modes"] = [str(mode) for mode in load.modes]
                loads.append(battery)
    base = problem.base_load_kw
    result: dict[str, Any] = {
        "slot_minutes": problem.slot_minutes,
        "slots": [_slot_json(s) for s in problem.slots],
        "base_load_kw": list(base) if isinstance(base, tuple) else base,
        "import_limit_kw": problem.import_limit_kw,
        "loads": loads,
    }
    pv = problem.pv_kw
    if problem.has_pv:
        result["pv_kw"] = list(pv) if isinstance(pv, tuple) else pv
    if problem.export_limit_kw is not None:
        result["export_limit_kw"] = problem.export_limit_kw
    return result


def _slot_json(slot: Slot) -> dict[str, Any]:
    item: dict[str, Any] = {"start": format_time(slot.start), "price": slot.price}
    if slot.export_price is not None:
        item["export_price"] = slot.export_price
    if slot.max_import_kw is not None:
        item["max_import_kw"] = slot.max_import_kw
    if slot.min_import_kw is not None:
        item["min_import_kw"] = slot.min_import_kw
    return item


def _round(value: float) -> float:
    return round(value, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """Return the plan JSON printed by ``hems plan``."""
    problem = plan.problem
    loads: dict[str, Any] = {}
    for load in problem.loads:
        match load:
            case InterruptibleLoad():
                loads[load.id] = {"on": list(plan.decisions.on[load.id])}
            case CycleLoad():
                start = plan.decisions.start[load.id]
                loads[load.id] = {
                    "start": None
                    if start is None
                    else format_time(problem.slots[start].start)
                }
            case Battery() if load.control == "power":
                loads[load.id] = {
                    "power_kw": [_round(kw) for kw in plan.decisions.power[load.id]]
                }
            case Battery():
                loads[load.id] = {
                    "mode": [str(m) for m in plan.decisions.mode[load.id]]
                }
    return {
        "cost": _round(plan.cost),
        "loads": loads,
        "explain": {
            "plan": {
                "method": plan.method,
                "optimal": plan.optimal,
                "bound": None if plan.bound is None else _round(plan.bound),
                "gap": None if plan.gap is None else _round(plan.gap),
                "relative_gap": None
                if plan.relative_gap is None
                else _round(plan.relative_gap),
                "limit_violation_kwh": _round(plan.limit_violation_kwh),
                "import_shortfall_kwh": _round(plan.import_shortfall_kwh),
                "import_excess_kwh": _round(plan.import_excess_kwh),
                "notes": list(plan.notes),
                "sun": plan.sun,
            },
            "loads": {
                load_id: {
                    "summary": e.summary,
                    "cost": _round(e.cost),
                    "energy_kwh": _round(e.energy_kwh),
                    "shortfall_slots": e.shortfall_slots,
                    "deferred": e.deferred,
                }
                for load_id, e in plan.explain.items()
            },
        },
        "slots": [format_time(s.start) for s in problem.slots],
        "net_import_kw": [_round(kw) for kw in plan.net_import_kw],
        "import_kwh": [_round(kwh) for kwh in plan.import_kwh],
        "export_kwh": [_round(kwh) for kwh in plan.export_kwh],
        "curtailed_kwh": [_round(kwh) for kwh in plan.curtailed_kwh],
        "soc_kwh": [_round(s) for s in plan.soc_kwh],
    }
