"""Typed, immutable models of the price sources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import math
from typing import Any, Final, Self

from ._checks import show, slot_problem, to_price, to_utc
from .exceptions import InvalidPriceRecord

REGIONS: Final[dict[str, str]] = {
    "A": "Eastern England",
    "B": "East Midlands",
    "C": "London",
    "D": "Merseyside and Northern Wales",
    "E": "West Midlands",
    "F": "North Eastern England",
    "G": "North Western England",
    "H": "Southern England",
    "J": "South Eastern England",
    "K": "Southern Wales",
    "L": "South Western England",
    "M": "Yorkshire",
    "N": "Southern Scotland",
    "P": "Northern Scotland",
}
"""The 14 GB grid supply point groups by the letter Octopus tariff codes end in."""


def _utc_field(moment: object, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise InvalidPriceRecord(
            f"PriceSlot.{name}: expected a datetime, got "
            f"{type(moment).__name__} {show(moment)}"
        )
    return to_utc(moment, name)


def _value_field(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPriceRecord(
            f"PriceSlot.value: expected a number, got {type(value).__name__} "
            f"{show(value)}"
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidPriceRecord(f"PriceSlot.value: {show(value)} is not finite")
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceSlot:
    """One unit rate: `value` p/kWh inc VAT from `start` (inclusive) to `end`.

    `start` and `end` must be timezone-aware; they are stored in UTC.  Naive
    datetimes, `end <= start` and non-finite values raise `InvalidPriceRecord`.
    The half-hour grid and the plausible range are checked where records are
    read (`validation.parse_rate`) and merged (`validation.merge_slots`).
    """

    start: datetime
    end: datetime
    value: float

    def __post_init__(self) -> None:
        """Check the fields and normalise the datetimes to UTC."""
        # Fast path first: the replay reader builds tens of thousands of slots.
        if type(self.start) is not datetime or self.start.tzinfo is not UTC:
            object.__setattr__(self, "start", _utc_field(self.start, "start"))
        if type(self.end) is not datetime or self.end.tzinfo is not UTC:
            object.__setattr__(self, "end", _utc_field(self.end, "end"))
        if not self.end > self.start:
            raise InvalidPriceRecord(
                f"PriceSlot: end {self.end.isoformat()} is not after "
                f"start {self.start.isoformat()}"
            )
        if type(self.value) is not float or not math.isfinite(self.value):
            object.__setattr__(self, "value", _value_field(self.value))

    def as_dict(self) -> dict[str, str | float]:
        """Return a JSON-ready dict for storage (see `from_dict`)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a slot stored with `as_dict`, checking it like an API record.

        Raises `InvalidPriceRecord` naming the field when `data` is not a
        mapping, lacks a field, or holds a time or value that is unusable.
        """
        if not isinstance(data, Mapping):
            raise InvalidPriceRecord(
                f"stored price slot: expected a mapping, got {type(data).__name__} "
                f"{show(data)}"
            )
        for key in ("start", "end", "value"):
            if key not in data:
                raise InvalidPriceRecord(f"stored price slot: missing field {key!r}")
        start = to_utc(data["start"], "start")
        end = to_utc(data["end"], "end")
        if problem := slot_problem(start, end):
            raise InvalidPriceRecord(f"stored price slot: {problem}")
        return cls(start=start, end=end, value=to_price(data["value"], "value"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """An Octopus Energy product as listed by `GET /v1/products/`."""

    code: str
    display_name: str
    full_name: str
    direction: str
    is_variable: bool
    brand: str | None
    available_from: datetime | None
    available_to: datetime | None

    def is_available_at(self, moment: datetime) -> bool:
        """Return whether the product can be signed up to at `moment` (aware)."""
        if moment.utcoffset() is None:
            raise ValueError(f"moment {moment!r} is naive; pass an aware datetime")
        if self.available_from is not None and self.available_from > moment:
            return False
        return self.available_to is None or self.available_to > moment


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Outcome of `validation.merge_slots`.

    `slots` is the merged history, ascending; `added` counts new slots,
    `changed` counts existing slots whose value was replaced (republication),
    `rejected` holds one message per dropped incoming (or invalid existing) slot.
    """

    slots: tuple[PriceSlot, ...]
    added: int
    changed: int
    rejected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RateFetch:
    """Slots read from a source (ascending, de-duplicated) and the rejected records.

    `incomplete` says why the source's answer was read only in part (e.g. a
    looping `next` link), or is None; the slots read are valid either way.
    """

    slots: tuple[PriceSlot, ...]
    rejected: tuple[str, ...]
    incomplete: str | None = None
