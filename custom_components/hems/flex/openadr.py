"""OpenADR 2.0b events (as openleadr hands them to a VEN) as flexibility events.

Mapping of the signals (payloads per interval; the window is the active
period, interval starts follow each other from its ``dtstart``):

- ``SIMPLE`` (level 0 normal, 1 moderate, 2 high, 3 special): a turn-down;
  each level adds ``level_uplift_p`` p/kWh to the import price (level 0 adds
  nothing).
- ``ELECTRICITY_PRICE`` / ``ENERGY_PRICE``: ``price`` replaces the import
  price, ``priceRelative`` is added to it; values are in currency units per
  kWh and multiplied by ``price_scale`` (100: pounds to pence).  A price rise
  is a turn-down, a relative cut a turn-up.  ``priceMultiplier`` is refused.
- ``LOAD_DISPATCH`` ``setpoint`` and ``LOAD_CONTROL`` ``x-loadControlSetpoint``:
  import at most that many kW (a turn-down target; W and MW by the signal's
  scale).  ``LOAD_DISPATCH`` ``delta`` and the other ``LOAD_CONTROL`` types
  (capacity, level and percent offsets) say only the direction (the sign;
  capacity: down) and carry no kW target the plan can use.
- Any other signal is refused, as is an open-ended (zero duration) event.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Final

from .errors import FlexEventError
from .models import MAX_KW, Ask, Direction, FlexEvent, Source, number, utc

DEFAULT_LEVEL_UPLIFT_P: Final = 10.0
DEFAULT_PRICE_SCALE: Final = 100.0
_SCALES: Final = {"none": 1e-3, "k": 1.0, "M": 1e3}  # W units of power to kW


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAdrEvent:
    """An OpenADR event read: the flexibility event and the VTN's bookkeeping."""

    event: FlexEvent | None  # None: the VTN cancelled it
    event_id: str
    status: str
    modification: int
    response_required: bool
    test: bool


@dataclass(slots=True)
class _Piece:
    price: float | None = None
    delta: float = 0.0
    max_kw: float | None = None
    down: bool = False
    up: bool = False
    asks: bool = False


type _Interval = tuple[datetime, datetime, float]


def _intervals(
    signal: Mapping[str, Any], start: datetime, end: datetime, where: str
) -> list[_Interval]:
    raw = signal.get("intervals")
    if not isinstance(raw, list) or not raw:
        raise FlexEventError(f"{where}.intervals", "no intervals")
    result: list[_Interval] = []
    moment = start
    for index, interval in enumerate(raw):
        here = f"{where}.intervals[{index}]"
        if not isinstance(interval, Mapping):
            raise FlexEventError(here, "expected an object")
        begin = (
            utc(interval["dtstart"], f"{here}.dtstart")
            if interval.get("dtstart")
            else moment
        )
        duration = interval.get("duration")
        if not isinstance(duration, timedelta) or duration <= timedelta(0):
            raise FlexEventError(f"{here}.duration", "expected a positive duration")
        value = number(
            interval.get("signal_payload"),
            f"{here}.signal_payload",
            low=-1e9,
            high=1e9,
            optional=False,
        )
        finish = min(begin + duration, end)
        if finish > begin:
            result.append((begin, finish, value or 0.0))
        moment = begin + duration
    return result


def _kw(value: float, signal: Mapping[str, Any]) -> float:
    measurement = signal.get("measurement") or {}
    scale = measurement.get("scale", "k") if isinstance(measurement, Mapping) else "k"
    if isinstance(measurement, Mapping) and measurement.get("unit") not in {
        None,
        "W",
        "kW",
    }:
        return value
    return value * _SCALES.get(str(scale), 1.0)


def _apply(
    piece: _Piece,
    name: str,
    kind: str,
    value: float,
    signal: Mapping[str, Any],
    *,
    level_uplift_p: float,
    price_scale: float,
    where: str,
) -> None:
    match name, kind:
        case "SIMPLE", _:
            if value > 0:
                piece.delta += value * level_uplift_p
                piece.down = piece.asks = True
        case (("ELECTRICITY_PRICE" | "ENERGY_PRICE"), "price"):
            piece.price = value * price_scale
            piece.down = piece.asks = True
        case (("ELECTRICITY_PRICE" | "ENERGY_PRICE"), "priceRelative"):
            piece.delta += value * price_scale
            piece.asks = True
            piece.down |= value > 0
            piece.up |= value < 0
        case ("LOAD_DISPATCH", "setpoint") | ("LOAD_CONTROL", "x-loadControlSetpoint"):
            piece.max_kw = number(
                _kw(value, signal), f"{where}.signal_payload", low=0.0, high=MAX_KW
            )
            piece.down = piece.asks = True
        case ("LOAD_DISPATCH", "delta") | (
            "LOAD_CONTROL",
            "x-loadControlLevelOffset" | "x-loadControlPercentOffset",
        ):
            piece.down |= value < 0
            piece.up |= value > 0
            piece.asks |= value != 0
        case "LOAD_CONTROL", "x-loadControlCapacity":
            piece.down = piece.asks = True
        case _:
            raise FlexEventError(
                f"{where}.signal_type", f"{name} {kind!r} is not supported"
            )


def read_event(
    raw: Mapping[str, Any],
    *,
    level_uplift_p: float = DEFAULT_LEVEL_UPLIFT_P,
    price_scale: float = DEFAULT_PRICE_SCALE,
) -> OpenAdrEvent:
    """Return the flexibility event of an openleadr event dict.

    Raises `FlexEventError` naming the field for anything it cannot map.
    """
    if not isinstance(raw, Mapping):
        raise FlexEventError("event", "expected an object")
    descriptor = raw.get("event_descriptor")
    if not isinstance(descriptor, Mapping) or not descriptor.get("event_id"):
        raise FlexEventError("event_descriptor.event_id", "is required")
    event_id = str(descriptor["event_id"])
    status = str(descriptor.get("event_status", "far"))
    info = {
        "event_id": event_id,
        "status": status,
        "modification": int(descriptor.get("modification_number") or 0),
        "response_required": raw.get("response_required", "always") == "always",
        "test": bool(descriptor.get("test_event", False)),
    }
    if status == "cancelled":
        return OpenAdrEvent(event=None, **info)
    period = raw.get("active_period")
    if not isinstance(period, Mapping):
        raise FlexEventError("active_period", "is required")
    start = utc(period.get("dtstart"), "active_period.dtstart")
    duration = period.get("duration")
    if not isinstance(duration, timedelta) or duration <= timedelta(0):
        raise FlexEventError(
            "active_period.duration", "open-ended events are not supported"
        )
    end = start + duration
    signals = raw.get("event_signals")
    if not isinstance(signals, list) or not signals:
        raise FlexEventError("event_signals", "the event has no signals")
    read: list[tuple[str, str, Mapping[str, Any], list[_Interval], str]] = []
    for index, signal in enumerate(signals):
        where = f"event_signals[{index}]"
        if not isinstance(signal, Mapping):
            raise FlexEventError(where, "expected an object")
        name = str(signal.get("signal_name", "")).upper()
        kind = str(signal.get("signal_type", ""))
        read.append((name, kind, signal, _intervals(signal, start, end, where), where))
    return OpenAdrEvent(
        event=_combine(
            event_id,
            start,
            end,
            read,
            level_uplift_p=level_uplift_p,
            price_scale=price_scale,
            comment=str(descriptor.get("vtn_comment") or ""),
        ),
        **info,
    )


def _combine(
    event_id: str,
    start: datetime,
    end: datetime,
    read: Sequence[tuple[str, str, Mapping[str, Any], list[_Interval], str]],
    *,
    level_uplift_p: float,
    price_scale: float,
    comment: str,
) -> FlexEvent:
    """Cut the window at every interval boundary and merge the signals."""
    cuts = sorted(
        {start, end}
        | {moment for *_, intervals, _ in read for i in intervals for moment in i[:2]}
    )
    asks: list[Ask] = []
    down = up = False
    for begin, finish in pairwise(cuts):
        piece = _Piece()
        for name, kind, signal, intervals, where in read:
            for low, high, value in intervals:
                if low <= begin and finish <= high:
                    _apply(
                        piece,
                        name,
                        kind,
                        value,
                        signal,
                        level_uplift_p=level_uplift_p,
                        price_scale=price_scale,
                        where=where,
                    )
        down |= piece.down
        up |= piece.up
        if piece.asks:
            asks.append(
                Ask(
                    start=begin,
                    end=finish,
                    max_import_kw=piece.max_kw,
                    price=piece.price,
                    price_delta=piece.delta,
                )
            )
    if not asks:
        raise FlexEventError("event_signals", "every interval asks for normal use")
    if down and up:
        raise FlexEventError("event_signals", "asks both for less and for more import")
    return FlexEvent(
        id=event_id,
        source=Source.OPENADR,
        direction=Direction.UP if up else Direction.DOWN,
        start=start,
        end=end,
        asks=tuple(asks),
        title=comment or "OpenADR event",
    )
