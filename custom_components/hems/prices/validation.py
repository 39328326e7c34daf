"""Parsing, merging and gap detection for half-hourly price slots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._checks import MAX_PRICE, MIN_PRICE, SLOT, show, slot_problem, to_price, to_utc
from .exceptions import InvalidPriceRecord
from .models import MergeResult, PriceSlot

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "MAX_PRICE",
    "MIN_PRICE",
    "SLOT",
    "find_gaps",
    "merge_slots",
    "parse_rate",
]


def parse_rate(
    record: Mapping[str, Any],
    *,
    start_key: str = "valid_from",
    end_key: str = "valid_to",
    value_key: str = "value_inc_vat",
    scale: float = 1.0,
) -> PriceSlot:
    """Turn one rate record into a `PriceSlot` (UTC, p/kWh).

    Times may be ISO 8601 strings (with `Z` or an offset) or aware datetimes;
    they are converted to UTC.  The value is multiplied by `scale` (e.g. 100 for
    GBP/kWh; a scaled value is rounded to 4 decimal places).

    Raises `InvalidPriceRecord`, naming the field and value, when a field is
    missing, a time is unparsable or naive, the slot does not last exactly 30
    minutes or does not start on :00/:30, or the value is not a number (bools
    are not), not finite, or outside [`MIN_PRICE`, `MAX_PRICE`].
    """
    if not isinstance(record, Mapping):
        raise InvalidPriceRecord(
            f"expected a mapping, got {type(record).__name__} {show(record)}"
        )
    for key in (start_key, end_key, value_key):
        if key not in record:
            raise InvalidPriceRecord(f"missing field {key!r}")
    start = to_utc(record[start_key], start_key)
    end = to_utc(record[end_key], end_key)
    if problem := slot_problem(start, end):
        raise InvalidPriceRecord(f"fields {start_key!r}/{end_key!r}: {problem}")
    value = to_price(record[value_key], value_key, scale)
    return PriceSlot(start=start, end=end, value=value)


def _slot_problem(slot: PriceSlot) -> str | None:
    if problem := slot_problem(slot.start, slot.end):
        return problem
    if not MIN_PRICE <= slot.value <= MAX_PRICE:
        return (
            f"value {slot.value} p/kWh is outside the plausible range "
            f"[{MIN_PRICE}, {MAX_PRICE}]"
        )
    return None


def merge_slots(
    existing: Sequence[PriceSlot], incoming: Iterable[PriceSlot]
) -> MergeResult:
    """Merge `incoming` slots into `existing` ones, keyed by start time.

    - a new start is added (`added`);
    - an incoming slot whose value differs from the existing one replaces it
      (a republication, counted in `changed`); identical slots are ignored;
    - within `incoming`, a second slot with the same start and a different
      value is dropped (the first wins: the API lists newest first) and the
      conflict is reported in `rejected`; exact repeats are dropped silently;
    - slots that are not one half-hour on the :00/:30 grid (and so would
      overlap others partially) or whose value is implausible are dropped and
      reported in `rejected`, incoming and existing alike.

    The merged slots are returned ascending.
    """
    rejected: list[str] = []
    merged: dict[datetime, PriceSlot] = {}
    for slot in existing:
        if problem := _slot_problem(slot):
            rejected.append(f"existing slot dropped: {problem}")
        else:
            merged[slot.start] = slot

    added = changed = 0
    batch: dict[datetime, PriceSlot] = {}
    for slot in incoming:
        if problem := _slot_problem(slot):
            rejected.append(f"incoming slot rejected: {problem}")
            continue
        first = batch.get(slot.start)
        if first is not None:
            if first.value != slot.value:
                rejected.append(
                    f"conflicting values for slot {slot.start.isoformat()}: "
                    f"kept {first.value}, ignored {slot.value}"
                )
            continue
        batch[slot.start] = slot
        old = merged.get(slot.start)
        if old is None:
            added += 1
        elif old.value != slot.value:
            changed += 1
        else:
            continue
        merged[slot.start] = slot

    ordered = tuple(merged[start] for start in sorted(merged))
    return MergeResult(ordered, added, changed, tuple(rejected))


def find_gaps(slots: Sequence[PriceSlot]) -> list[tuple[datetime, datetime]]:
    """Return the uncovered intervals between the first and the last slot.

    The slots are sorted by start first; overlapping slots are no gap.
    """
    gaps: list[tuple[datetime, datetime]] = []
    ordered = sorted(slots, key=lambda slot: slot.start)
    if not ordered:
        return gaps
    covered_to = ordered[0].end
    for slot in ordered[1:]:
        if slot.start > covered_to:
            gaps.append((covered_to, slot.start))
        covered_to = max(covered_to, slot.end)
    return gaps
