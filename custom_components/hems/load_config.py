"""What the household configured: its loads and its site (pure, no HA import).

A load's settings live in a config subentry as plain data; ``parse_load``
turns that data into a typed, validated object. A wrong value raises
:class:`LoadConfigError` naming the field, with a translation key and the
placeholders of a message in the householder's words (the forms show it
translated; logs and repair issues show the English text).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
import math
import re
from typing import Any

from .actuators.config import GpioRelayConfig, I2cBoard, I2cRelayConfig, validate_config


class LoadKind(StrEnum):
    """The kinds of controlled load."""

    EV_CHARGER = "ev_charger"
    IMMERSION = "immersion"
    DISHWASHER = "dishwasher"
    WASHING_MACHINE = "washing_machine"
    BATTERY = "battery"


WET_GOODS = frozenset({LoadKind.DISHWASHER, LoadKind.WASHING_MACHINE})


class ActuatorKind(StrEnum):
    """How a load is switched."""

    ENTITY = "entity"  # a switch, input_boolean or light already in HA
    GPIO = "gpio"  # a relay HAT pin through RPi.GPIO
    I2C = "i2c"  # a relay HAT channel through smbus2
    SELECT = "select"  # a battery inverter's mode select / input_select
    NUMBER = "number"  # a battery inverter's power setpoint number / input_number
    NONE = "none"  # planned and shown only


# What each setting may be: (lowest, highest, unit shown). The forms use the
# same ranges, so a value refused here is refused there with the same words.
RANGES: dict[str, tuple[float, float, str]] = {
    "power_kw": (0.1, 50, " kW"),
    "hours": (0.5, 24, " h"),
    "boiler_efficiency": (0.3, 1, ""),
    "capacity_kwh": (0.1, 200, " kWh"),
    "charge_kw": (0.1, 50, " kW"),
    "discharge_kw": (0.1, 50, " kW"),
    "efficiency": (0.5, 1, ""),
    "min_soc_kwh": (0, 200, " kWh"),
    "opportunistic_price": (-100, 100, " p/kWh"),
    "max_cycle_cost": (-100, 1000, " p"),
    "divert_priority": (1, 9, ""),
    "car_battery_kwh": (1, 250, " kWh"),
    "target_soc": (1, 100, " %"),
    "charger_efficiency": (0.5, 1, ""),
    "min_interval_s": (0, 3600, " s"),
    "step_kw": (0.01, 10, " kW"),
}

# English texts of the error keys (the translations live in strings.json).
MESSAGES = {
    "number_needed": "enter a number, got {value}",
    "out_of_range": "enter a value from {low} to {high}{unit}, got {value}",
    "half_hours": "hours are planned in half-hours: enter e.g. 2 or 2.5, got {value}",
    "hours_exceed_window": (
        "{hours} h do not fit between {start} and {end} ({window} h): "
        "ask for fewer hours or widen the window"
    ),
    "same_times": (
        "arrival and departure are both {time}: the car has no time to charge"
    ),
    "time_needed": "enter a time such as 18:00, got {value}",
    "profile_needed": (
        "enter the energy of each half-hour in kWh, separated by commas, "
        "e.g. 0.9, 0.1, 0.6"
    ),
    "profile_value": "half-hour {index}: {value} is not a number of kWh from 0 to 10",
    "profile_empty": (
        "the profile uses no energy: give at least one half-hour above 0 kWh"
    ),
    "reserve_too_high": "the reserve must be below the capacity ({capacity} kWh)",
    "unknown_kind": "unknown load kind {value}",
    "entity_needed": "choose an entity of {domains}, got {value}",
    "entity_not_found": "{value} does not exist",
    "options_needed": "choose an option of the inverter for each mode: {modes}",
    "address_needed": "enter an I2C address such as 0x10, got {value}",
    "whole_number": "enter a whole number, got {value}",
    "true_or_false": "choose on or off, got {value}",
    "unknown_choice": "choose one of {choices}, got {value}",
    "settings_needed": "settings are needed, got {value}",
    "power_needs_number": (
        "a battery driven by power needs a number entity for its setpoint"
    ),
    "modes_need_select": (
        "a battery driven by modes needs a select entity for its mode"
    ),
}


class LoadConfigError(ValueError):
    """A load's settings are invalid: ``field``, ``key`` and ``placeholders``."""

    def __init__(self, field: str, key: str, **placeholders: object) -> None:
        """Store the field, the error key and its placeholders."""
        self.field = field
        self.key = key
        self.placeholders = {
            name: _shown(value) for name, value in placeholders.items()
        }
        super().__init__(f"{field}: {MESSAGES[key].format(**self.placeholders)}")


def _shown(value: object) -> str:
    """Show a value in a message (numbers plainly, the rest quoted and short)."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."  # noqa: PLR2004


BATTERY_MODES = ("normal", "charge_only", "force_charge")
ALL_BATTERY_MODES = (*BATTERY_MODES, "force_discharge")
NUMBER_DOMAINS = ("number", "input_number")


class BatteryControl(StrEnum):
    """How the inverter is told what to do."""

    MODES = "modes"  # a mode per half-hour (select)
    POWER = "power"  # a charge/discharge setpoint (number)


@dataclass(frozen=True, slots=True, kw_only=True)
class Actuator:
    """How to switch a load; only the fields of its kind are set."""

    kind: ActuatorKind
    entity_id: str | None = None
    pin: int | None = None
    active_high: bool = True
    bus: int | None = None
    address: int | None = None
    channel: int | None = None
    board: str | None = None
    options: Mapping[str, str] | None = None  # battery mode -> select option
    # A power setpoint (number): its unit, sign and how often it may change.
    unit: str = "W"
    charge_positive: bool = True
    min_interval_s: float = 300.0
    step_kw: float = 0.1


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyWindow:
    """A local-time window that repeats daily; ends the next day if end <= start."""

    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        """Return whether the window ends on the next day."""
        return self.end <= self.start


@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptibleConfig:
    """An EV charger or immersion heater: power for some hours in a window."""

    id: str
    name: str
    kind: LoadKind
    power_kw: float
    hours: float
    window: DailyWindow
    opportunistic_price: float | None = None
    cheaper_than_gas: bool = False
    boiler_efficiency: float = 0.9
    # Takes live PV surplus in this order (1 first); None: never diverted.
    divert_priority: int | None = None
    # EV charger: the car's state of charge decides the need, when given.
    car_soc_entity: str | None = None
    car_battery_kwh: float | None = None
    target_soc: float = 100.0
    charger_efficiency: float = 0.9
    actuator: Actuator

    @property
    def slots(self) -> int:
        """Return the half-hours needed per window."""
        return round(self.hours * 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleConfig:
    """A dishwasher or washing machine: one measured cycle per window."""

    id: str
    name: str
    kind: LoadKind
    profile_kwh: tuple[float, ...]
    window: DailyWindow
    max_cycle_cost: float | None = None
    actuator: Actuator


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryConfig:
    """A home battery with its state-of-charge sensor."""

    id: str
    name: str
    kind: LoadKind
    capacity_kwh: float
    charge_kw: float
    discharge_kw: float
    efficiency: float
    min_soc_kwh: float
    soc_entity: str | None
    control: BatteryControl = BatteryControl.MODES
    # The modes the inverter offers (force_discharge only where it has one).
    modes: tuple[str, ...] = BATTERY_MODES
    actuator: Actuator


type LoadConfig = InterruptibleConfig | CycleConfig | BatteryConfig


def _number(
    data: Mapping[str, Any], key: str, *, default: float | None = None
) -> float:
    """Return a setting as a number within its range (``RANGES``)."""
    value = data.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise LoadConfigError(key, "number_needed", value=repr(value))
    low, high, unit = RANGES[key]
    if not low <= value <= high:
        raise LoadConfigError(
            key, "out_of_range", low=low, high=high, unit=unit, value=value
        )
    return float(value)


def _optional_number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    return _number(data, key)


def _optional_entity(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or _ENTITY_ID.match(value) is None:
        raise LoadConfigError(key, "entity_needed", domains="sensor", value=repr(value))
    return value


def parse_time(value: Any, key: str) -> time:
    """Parse "HH:MM" or "HH:MM:SS" local time."""
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise LoadConfigError(key, "time_needed", value=repr(value)) from None


def round_window(start: time, end: time) -> tuple[time, time]:
    """Round a window inwards to the half-hour: the start up, the end down.

    A car arriving at 17:45 can charge from 18:00; one leaving at 07:15 must
    be done by 07:00.
    """
    day = date(2000, 1, 1)
    begin = datetime.combine(day, start.replace(second=0, microsecond=0))
    if (begin.minute % 30, start.second, start.microsecond) != (0, 0, 0):
        begin += timedelta(minutes=30 - begin.minute % 30)
    finish = datetime.combine(day, end)
    finish -= timedelta(
        minutes=finish.minute % 30,
        seconds=finish.second,
        microseconds=finish.microsecond,
    )
    return begin.time(), finish.time()


def window_hours(window: DailyWindow) -> float:
    """Return the length of a daily window in hours (00:00 to 00:00 is 24 h)."""
    day = date(2000, 1, 1)
    length = datetime.combine(day, window.end) - datetime.combine(day, window.start)
    if length <= timedelta(0):
        length += timedelta(days=1)
    return length / timedelta(hours=1)


def _window(data: Mapping[str, Any], start_key: str, end_key: str) -> DailyWindow:
    start = parse_time(data.get(start_key, "00:00"), start_key)
    end = parse_time(data.get(end_key, "00:00"), end_key)
    start, end = round_window(start, end)
    return DailyWindow(start=start, end=end)


def parse_profile(value: Any) -> tuple[float, ...]:
    """Parse a per-half-hour energy profile from a list or "0.9, 0.1, 0.6"."""
    items: list[Any]
    if isinstance(value, str):
        items = [item for item in value.replace(";", ",").split(",") if item.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise LoadConfigError("profile_kwh", "profile_needed")
    if not items:
        raise LoadConfigError("profile_kwh", "profile_needed")
    profile: list[float] = []
    for index, item in enumerate(items):
        try:
            number = float(item)
        except TypeError, ValueError:
            number = math.nan
        if not 0 <= number <= 10:  # noqa: PLR2004 - a 20 kW draw is no appliance
            shown = item.strip() if isinstance(item, str) else item
            raise LoadConfigError(
                "profile_kwh", "profile_value", index=index + 1, value=shown
            )
        profile.append(number)
    if not any(profile):
        raise LoadConfigError("profile_kwh", "profile_empty")
    return tuple(profile)


_ENTITY_ID = re.compile(r"^(?P<domain>[a-z0-9_]+)\.[a-z0-9_]+$")
SWITCH_DOMAINS = ("switch", "input_boolean", "light")
SELECT_DOMAINS = ("select", "input_select")


def _entity(data: Mapping[str, Any], domains: tuple[str, ...]) -> str:
    """Return the actuator's entity id, checking it names an entity of ``domains``."""
    value = data.get("entity_id")
    match = _ENTITY_ID.match(value) if isinstance(value, str) else None
    if match is None or match["domain"] not in domains:
        raise LoadConfigError(
            "actuator.entity_id",
            "entity_needed",
            domains=", ".join(domains),
            value=repr(value),
        )
    return str(value)


def _integer(data: Mapping[str, Any], key: str) -> int:
    """Return a whole number (17 or 17.0, not "seventeen" or True)."""
    value = data.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise LoadConfigError(f"actuator.{key}", "whole_number", value=repr(value))
    return int(value)


# Ranges of the relay settings, as the relay library checks them.
RELAY_RANGES = {
    "pin": (0, 27, ""),
    "bus": (0, 2**31 - 1, ""),
    "address": (0x03, 0x77, ""),
    "channel": (1, 8, ""),
}


def _relay(kind: ActuatorKind, data: Mapping[str, Any]) -> Actuator:
    """Return a GPIO or I2C relay actuator, checked against the relay library."""
    relay: GpioRelayConfig | I2cRelayConfig
    if kind is ActuatorKind.GPIO:
        active_high = data.get("active_high", True)
        if not isinstance(active_high, bool):
            raise LoadConfigError(
                "actuator.active_high", "true_or_false", value=repr(active_high)
            )
        relay = GpioRelayConfig(pin=_integer(data, "pin"), active_high=active_high)
    else:
        board = data.get("board") or I2cBoard.REGISTER_PER_CHANNEL.value
        if board not in {item.value for item in I2cBoard}:
            raise LoadConfigError(
                "actuator.board",
                "unknown_choice",
                choices=", ".join(item.value for item in I2cBoard),
                value=repr(board),
            )
        relay = I2cRelayConfig(
            bus=_integer(data, "bus"),
            address=_integer(data, "address"),
            channel=_integer(data, "channel"),
            board=I2cBoard(board),
        )
    try:
        validate_config(relay)
    except ValueError as err:
        field = str(err).split(" ", 1)[0]
        low, high, _ = RELAY_RANGES.get(field, (0, 0, ""))
        value = getattr(relay, field, None)
        raise LoadConfigError(
            f"actuator.{field}",
            "out_of_range",
            low=f"0x{low:02x}" if field == "address" else low,
            high=f"0x{high:02x}" if field == "address" else high,
            unit="",
            value=f"0x{value:02x}"
            if field == "address" and isinstance(value, int)
            else value,
        ) from None
    if isinstance(relay, GpioRelayConfig):
        return Actuator(kind=kind, pin=relay.pin, active_high=relay.active_high)
    return Actuator(
        kind=kind,
        bus=relay.bus,
        address=relay.address,
        channel=relay.channel,
        board=relay.board.value,
    )


def _number_actuator(data: Mapping[str, Any]) -> Actuator:
    """Return a battery power setpoint: a number in W or kW, with its sign."""
    entity_id = _entity(data, NUMBER_DOMAINS)
    unit = data.get("unit", "W")
    if unit not in ("W", "kW"):
        raise LoadConfigError(
            "actuator.unit", "unknown_choice", choices="W, kW", value=repr(unit)
        )
    positive = data.get("charge_positive", True)
    if not isinstance(positive, bool):
        raise LoadConfigError(
            "actuator.charge_positive", "true_or_false", value=repr(positive)
        )
    return Actuator(
        kind=ActuatorKind.NUMBER,
        entity_id=entity_id,
        unit=unit,
        charge_positive=positive,
        min_interval_s=_number(data, "min_interval_s", default=300.0),
        step_kw=_number(data, "step_kw", default=0.1),
    )


def parse_actuator(data: Mapping[str, Any] | None) -> Actuator:
    """Parse and check an actuator's settings; errors name the field."""
    if not data:
        return Actuator(kind=ActuatorKind.NONE)
    if not isinstance(data, Mapping):
        raise LoadConfigError("actuator", "settings_needed", value=repr(data))
    try:
        kind = ActuatorKind(str(data.get("type")))
    except ValueError:
        raise LoadConfigError(
            "actuator.type",
            "unknown_choice",
            choices=", ".join(item.value for item in ActuatorKind),
            value=repr(data.get("type")),
        ) from None
    match kind:
        case ActuatorKind.NONE:
            return Actuator(kind=kind)
        case ActuatorKind.ENTITY:
            return Actuator(kind=kind, entity_id=_entity(data, SWITCH_DOMAINS))
        case ActuatorKind.SELECT:
            entity_id = _entity(data, SELECT_DOMAINS)
            options = data.get("options")
            if not isinstance(options, Mapping) or not all(
                isinstance(options.get(mode), str) and options.get(mode)
                for mode in BATTERY_MODES
            ):
                raise LoadConfigError(
                    "actuator.options", "options_needed", modes=", ".join(BATTERY_MODES)
                )
            return Actuator(
                kind=kind,
                entity_id=entity_id,
                options={
                    mode: str(options[mode])
                    for mode in ALL_BATTERY_MODES
                    if isinstance(options.get(mode), str) and options.get(mode)
                },
            )
        case ActuatorKind.NUMBER:
            return _number_actuator(data)
        case ActuatorKind.GPIO | ActuatorKind.I2C:
            return _relay(kind, data)


def _battery(
    load_id: str, name: str, data: Mapping[str, Any], actuator: Actuator
) -> BatteryConfig:
    capacity = _number(data, "capacity_kwh")
    min_soc = _number(data, "min_soc_kwh", default=0.0)
    if min_soc >= capacity:
        raise LoadConfigError("min_soc_kwh", "reserve_too_high", capacity=capacity)
    control, modes = _battery_control(data, actuator)
    return BatteryConfig(
        id=load_id,
        name=name,
        kind=LoadKind.BATTERY,
        capacity_kwh=capacity,
        charge_kw=_number(data, "charge_kw"),
        discharge_kw=_number(data, "discharge_kw"),
        efficiency=_number(data, "efficiency"),
        min_soc_kwh=min_soc,
        soc_entity=_optional_entity(data, "soc_entity"),
        control=control,
        modes=modes,
        actuator=actuator,
    )


def _battery_control(
    data: Mapping[str, Any], actuator: Actuator
) -> tuple[BatteryControl, tuple[str, ...]]:
    """Return how the battery is driven and the modes its inverter offers."""
    try:
        control = BatteryControl(data.get("control", BatteryControl.MODES))
    except ValueError:
        raise LoadConfigError(
            "control",
            "unknown_choice",
            choices="modes, power",
            value=repr(data.get("control")),
        ) from None
    if control is BatteryControl.POWER:
        if actuator.kind not in (ActuatorKind.NUMBER, ActuatorKind.NONE):
            raise LoadConfigError("actuator", "power_needs_number")
        return control, ()
    if actuator.kind not in (ActuatorKind.SELECT, ActuatorKind.NONE):
        raise LoadConfigError("actuator", "modes_need_select")
    offered = tuple(data.get("modes") or BATTERY_MODES)
    unknown = [mode for mode in offered if mode not in ALL_BATTERY_MODES]
    if unknown or "normal" not in offered:
        raise LoadConfigError(
            "modes",
            "unknown_choice",
            choices=", ".join(ALL_BATTERY_MODES),
            value=repr(offered),
        )
    if actuator.kind is ActuatorKind.SELECT and actuator.options is not None:
        missing = [mode for mode in offered if mode not in actuator.options]
        if missing:
            raise LoadConfigError(
                "actuator.options", "options_needed", modes=", ".join(missing)
            )
    return control, tuple(mode for mode in ALL_BATTERY_MODES if mode in offered)


def parse_load(load_id: str, data: Mapping[str, Any]) -> LoadConfig:
    """Return the typed settings of one load, or raise LoadConfigError."""
    try:
        kind = LoadKind(str(data.get("kind")))
    except ValueError:
        raise LoadConfigError(
            "kind", "unknown_kind", value=repr(data.get("kind"))
        ) from None
    name = str(data.get("name") or kind.value)
    actuator = parse_actuator(data.get("actuator"))
    if kind in WET_GOODS:
        return CycleConfig(
            id=load_id,
            name=name,
            kind=kind,
            profile_kwh=parse_profile(data.get("profile_kwh")),
            window=_window(data, "window_start", "window_end"),
            max_cycle_cost=_optional_number(data, "max_cycle_cost"),
            actuator=actuator,
        )
    if kind is LoadKind.BATTERY:
        return _battery(load_id, name, data, actuator)
    power_kw = _number(data, "power_kw")
    hours = _number(data, "hours")
    if round(hours * 2) != hours * 2:
        raise LoadConfigError("hours", "half_hours", value=hours)
    window = _window(data, "window_start", "window_end")
    if kind is LoadKind.EV_CHARGER and window.start == window.end:
        raise LoadConfigError(
            "window_end", "same_times", time=window.start.strftime("%H:%M")
        )
    if hours > window_hours(window):
        raise LoadConfigError(
            "hours",
            "hours_exceed_window",
            hours=hours,
            start=window.start.strftime("%H:%M"),
            end=window.end.strftime("%H:%M"),
            window=window_hours(window),
        )
    return InterruptibleConfig(
        id=load_id,
        name=name,
        kind=kind,
        power_kw=power_kw,
        hours=hours,
        window=window,
        opportunistic_price=_optional_number(data, "opportunistic_price"),
        cheaper_than_gas=bool(data.get("cheaper_than_gas", False)),
        boiler_efficiency=_number(data, "boiler_efficiency", default=0.9),
        divert_priority=_priority(data),
        **_car(data) if kind is LoadKind.EV_CHARGER else {},
        actuator=actuator,
    )


def _car(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the car's state-of-charge settings (all or nothing)."""
    entity = _optional_entity(data, "car_soc_entity")
    if entity is None:
        return {}
    return {
        "car_soc_entity": entity,
        "car_battery_kwh": _number(data, "car_battery_kwh"),
        "target_soc": _number(data, "target_soc", default=100.0),
        "charger_efficiency": _number(data, "charger_efficiency", default=0.9),
    }


def _priority(data: Mapping[str, Any]) -> int | None:
    """Return the PV-surplus priority, a whole number from 1 to 9, or None."""
    value = _optional_number(data, "divert_priority")
    if value is None:
        return None
    if value != int(value):
        raise LoadConfigError("divert_priority", "whole_number", value=value)
    return int(value)
