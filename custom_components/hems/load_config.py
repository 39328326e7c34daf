"""What the household configured: its loads and its site (pure, no HA import).

A load's settings live in a config subentry as plain data; ``parse_load``
turns that data into a typed, validated object, naming the field when a value
is wrong.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
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
    NONE = "none"  # planned and shown only


# Bounds of settings edited outside the forms: beyond these a value is a typo.
MAX_POWER_KW = 100.0
MAX_HOURS = 24.0
MAX_CAPACITY_KWH = 1000.0


class LoadConfigError(ValueError):
    """A load's settings are invalid; ``field`` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        """Store the field and build the message."""
        self.field = field
        super().__init__(f"{field}: {message}")


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
    actuator: Actuator


type LoadConfig = InterruptibleConfig | CycleConfig | BatteryConfig


def _number(
    data: Mapping[str, Any],
    key: str,
    *,
    allow_zero: bool = False,
    maximum: float | None = None,
    default: float | None = None,
) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LoadConfigError(key, f"a number is needed, got {value!r}")
    if not math.isfinite(value):
        raise LoadConfigError(key, f"a finite number is needed, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        low = "0 or more" if allow_zero else "more than 0"
        raise LoadConfigError(key, f"must be {low}, got {value:g}")
    if maximum is not None and value > maximum:
        raise LoadConfigError(key, f"must be at most {maximum:g}, got {value:g}")
    return float(value)


def _optional_number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LoadConfigError(key, f"a number is needed, got {value!r}")
    if not math.isfinite(value):
        raise LoadConfigError(key, f"a finite number is needed, got {value!r}")
    return float(value)


def _optional_entity(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or _ENTITY_ID.match(value) is None:
        raise LoadConfigError(
            key, f"an entity such as sensor.x is needed, got {value!r}"
        )
    return value


def parse_time(value: Any, key: str) -> time:
    """Parse "HH:MM" or "HH:MM:SS" local time."""
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise LoadConfigError(
            key, f"a time like 18:00 is needed, got {value!r}"
        ) from None


def _window(data: Mapping[str, Any], start_key: str, end_key: str) -> DailyWindow:
    start = parse_time(data.get(start_key, "00:00"), start_key)
    end = parse_time(data.get(end_key, "00:00"), end_key)
    if (start.minute % 30, start.second, end.minute % 30, end.second) != (0, 0, 0, 0):
        raise LoadConfigError(start_key, "windows start and end on the half-hour")
    return DailyWindow(start=start, end=end)


def parse_profile(value: Any) -> tuple[float, ...]:
    """Parse a per-half-hour energy profile from a list or "0.9, 0.1, 0.6"."""
    items: list[Any]
    if isinstance(value, str):
        items = [item for item in value.replace(";", ",").split(",") if item.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise LoadConfigError("profile_kwh", f"a list of kWh is needed, got {value!r}")
    if not items:
        raise LoadConfigError("profile_kwh", "the profile is empty")
    profile: list[float] = []
    for index, item in enumerate(items):
        try:
            number = float(item)
        except TypeError, ValueError:
            raise LoadConfigError(
                "profile_kwh", f"half-hour {index + 1}: {item!r} is not a number"
            ) from None
        if not 0 <= number <= 10:  # noqa: PLR2004 - a 20 kW draw is no appliance
            raise LoadConfigError(
                "profile_kwh", f"half-hour {index + 1}: {number:g} kWh is out of range"
            )
        profile.append(number)
    if not any(profile):
        raise LoadConfigError("profile_kwh", "the profile uses no energy")
    return tuple(profile)


_ENTITY_ID = re.compile(r"^(?P<domain>[a-z0-9_]+)\.[a-z0-9_]+$")
SWITCH_DOMAINS = ("switch", "input_boolean", "light")
SELECT_DOMAINS = ("select", "input_select")
BATTERY_MODES = ("normal", "charge_only", "force_charge")


def _entity(data: Mapping[str, Any], domains: tuple[str, ...]) -> str:
    """Return the actuator's entity id, checking it names an entity of ``domains``."""
    value = data.get("entity_id")
    match = _ENTITY_ID.match(value) if isinstance(value, str) else None
    if match is None or match["domain"] not in domains:
        raise LoadConfigError(
            "actuator.entity_id",
            f"an entity of {', '.join(domains)} is needed, got {value!r}",
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
        raise LoadConfigError(
            f"actuator.{key}", f"a whole number is needed, got {value!r}"
        )
    return int(value)


def _relay(kind: ActuatorKind, data: Mapping[str, Any]) -> Actuator:
    """Return a GPIO or I2C relay actuator, checked against the relay library."""
    relay: GpioRelayConfig | I2cRelayConfig
    if kind is ActuatorKind.GPIO:
        active_high = data.get("active_high", True)
        if not isinstance(active_high, bool):
            raise LoadConfigError(
                "actuator.active_high", f"true or false is needed, got {active_high!r}"
            )
        relay = GpioRelayConfig(pin=_integer(data, "pin"), active_high=active_high)
    else:
        board = data.get("board") or I2cBoard.REGISTER_PER_CHANNEL.value
        if board not in {item.value for item in I2cBoard}:
            choices = ", ".join(item.value for item in I2cBoard)
            raise LoadConfigError(
                "actuator.board", f"one of {choices} is needed, got {board!r}"
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
        raise LoadConfigError(f"actuator.{field}", str(err)) from None
    if isinstance(relay, GpioRelayConfig):
        return Actuator(kind=kind, pin=relay.pin, active_high=relay.active_high)
    return Actuator(
        kind=kind,
        bus=relay.bus,
        address=relay.address,
        channel=relay.channel,
        board=relay.board.value,
    )


def parse_actuator(data: Mapping[str, Any] | None) -> Actuator:
    """Parse and check an actuator's settings; errors name the field."""
    if not data:
        return Actuator(kind=ActuatorKind.NONE)
    if not isinstance(data, Mapping):
        raise LoadConfigError("actuator", f"settings are needed, got {data!r}")
    try:
        kind = ActuatorKind(str(data.get("type")))
    except ValueError:
        raise LoadConfigError(
            "actuator.type", f"unknown type {data.get('type')!r}"
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
                    "actuator.options",
                    "an option of the inverter is needed for each of "
                    f"{', '.join(BATTERY_MODES)}, got {options!r}",
                )
            return Actuator(
                kind=kind,
                entity_id=entity_id,
                options={mode: str(options[mode]) for mode in BATTERY_MODES},
            )
        case ActuatorKind.GPIO | ActuatorKind.I2C:
            return _relay(kind, data)


def parse_load(load_id: str, data: Mapping[str, Any]) -> LoadConfig:
    """Return the typed settings of one load, or raise LoadConfigError."""
    try:
        kind = LoadKind(str(data.get("kind")))
    except ValueError:
        raise LoadConfigError(
            "kind", f"unknown load kind {data.get('kind')!r}"
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
        capacity = _number(data, "capacity_kwh", maximum=MAX_CAPACITY_KWH)
        min_soc = (
            _number(data, "min_soc_kwh", allow_zero=True)
            if "min_soc_kwh" in data
            else 0.0
        )
        if min_soc >= capacity:
            raise LoadConfigError("min_soc_kwh", "must be below the capacity")
        efficiency = _number(data, "efficiency")
        if efficiency > 1:
            raise LoadConfigError("efficiency", "is a fraction between 0 and 1")
        return BatteryConfig(
            id=load_id,
            name=name,
            kind=kind,
            capacity_kwh=capacity,
            charge_kw=_number(data, "charge_kw", maximum=MAX_POWER_KW),
            discharge_kw=_number(data, "discharge_kw", maximum=MAX_POWER_KW),
            efficiency=efficiency,
            min_soc_kwh=min_soc,
            soc_entity=_optional_entity(data, "soc_entity"),
            actuator=actuator,
        )
    power_kw = _number(data, "power_kw", maximum=MAX_POWER_KW)
    hours = _number(data, "hours", maximum=MAX_HOURS)
    if round(hours * 2) != hours * 2:
        raise LoadConfigError("hours", "whole half-hours are planned, e.g. 2.5")
    window = _window(data, "window_start", "window_end")
    if kind is LoadKind.EV_CHARGER and window.start == window.end:
        raise LoadConfigError("window_end", "departure must differ from arrival")
    return InterruptibleConfig(
        id=load_id,
        name=name,
        kind=kind,
        power_kw=power_kw,
        hours=hours,
        window=window,
        opportunistic_price=_optional_number(data, "opportunistic_price"),
        cheaper_than_gas=bool(data.get("cheaper_than_gas", False)),
        boiler_efficiency=_number(data, "boiler_efficiency", maximum=1, default=0.9),
        actuator=actuator,
    )
