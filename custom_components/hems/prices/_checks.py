"""Field-level checks shared by the models, the validators and the readers.

Private: the public names (`SLOT`, `MIN_PRICE`, `MAX_PRICE`) are re-exported by
`validation`.  Every check raises `InvalidPriceRecord` with a message that names
the field and shows the offending value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import math
from typing import Final

from .exceptions import InvalidPriceRecord

SLOT: Final = timedelta(minutes=30)
"""Length of one Agile price slot."""

MIN_PRICE: Final = -100.0
"""Lowest plausible unit rate in p/kWh inc VAT.

Agile's real range since 2018 is roughly -30 to +100 p/kWh (the most negative
published rate was about -65 p/kWh in 2024); anything below -100 is taken to be a
unit error (e.g. GBP read as pence the wrong way round) or corrupt data.
"""

MAX_PRICE: Final = 1000.0
"""Highest plausible unit rate in p/kWh inc VAT.

Ten times Agile's 100 p/kWh cap; a larger value is almost certainly a unit
error (e.g. a price in GBP/MWh) or corrupt data.
"""

_SHOW_MAX: Final = 60


def show(value: object) -> str:
    """Return a short repr of `value` for an error message."""
    text = repr(value)
    if len(text) > _SHOW_MAX:
        return text[: _SHOW_MAX - 3] + "..."
    return text


def to_utc(value: object, field: str) -> datetime:
    """Return `value` (ISO 8601 string or aware datetime) as an aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidPriceRecord(
                f"field {field!r}: unparsable time {show(value)}"
            ) from None
    else:
        raise InvalidPriceRecord(
            f"field {field!r}: expected an ISO 8601 time or a datetime, "
            f"got {type(value).__name__} {show(value)}"
        )
    if moment.utcoffset() is None:
        raise InvalidPriceRecord(
            f"field {field!r}: naive time {show(value)} has no UTC offset"
        )
    if moment.tzinfo is UTC:
        return moment
    return moment.astimezone(UTC)


def to_price(value: object, field: str, scale: float = 1.0) -> float:
    """Return `value` times `scale` as a plausible price in p/kWh.

    When `scale` is not 1 the product is rounded to 4 decimal places, which
    removes binary noise such as 0.1523 * 100 == 15.229999999999999.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPriceRecord(
            f"field {field!r}: expected a number, got {type(value).__name__} "
            f"{show(value)}"
        )
    try:
        price = float(value) * scale
    except OverflowError:
        price = math.inf
    if not math.isfinite(price):
        raise InvalidPriceRecord(f"field {field!r}: {show(value)} is not finite")
    if scale != 1.0:
        price = round(price, 4)
    if not MIN_PRICE <= price <= MAX_PRICE:
        shown = show(value) if scale == 1.0 else f"{show(value)} x {scale:g} = {price}"
        raise InvalidPriceRecord(
            f"field {field!r}: {shown} p/kWh is outside the plausible range "
            f"[{MIN_PRICE}, {MAX_PRICE}]"
        )
    return price


def slot_problem(start: datetime, end: datetime) -> str | None:
    """Say why `start`..`end` is not one half-hour slot on the :00/:30 grid."""
    if end - start != SLOT:
        return (
            f"slot {start.isoformat()} .. {end.isoformat()} lasts {end - start}, "
            f"expected {SLOT}"
        )
    if start.minute % 30 or start.second or start.microsecond:
        return (
            f"slot start {start.isoformat()} is not on a half-hour boundary "
            "(:00 or :30)"
        )
    return None
