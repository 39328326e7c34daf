"""Rates published by the Octopus Energy integration for Home Assistant.

BottlecapDave/HomeAssistant-OctopusEnergy exposes the day's half-hourly rates
on event entities such as
`event.octopus_energy_electricity_{serial}_{mpan}_current_day_rates` and
`..._next_day_rates`.  Their `rates` attribute is a list of items like::

    {"start": datetime(2024, 6, 1, 0, 0, tzinfo=<Europe/London>),
     "end": datetime(2024, 6, 1, 0, 30, tzinfo=<Europe/London>),
     "value_inc_vat": 0.1523, "is_capped": False,
     "is_intelligent_adjusted": False, "tariff_code": "E-1R-AGILE-24-10-01-C"}

with times as datetimes (or ISO strings once restored or serialised, often
with a local +01:00 offset) and `value_inc_vat` in GBP/kWh.  Extra keys are
ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .exceptions import InvalidPriceRecord
from .models import PriceSlot, RateFetch
from .validation import merge_slots, parse_rate

GBP_TO_PENCE: Final = 100.0


def parse_rates_attribute(rates: Any, *, entity_id: str) -> RateFetch:
    """Turn the `rates` attribute of `entity_id` into p/kWh slots.

    Never raises for bad data: a `rates` that is not a list gives one rejected
    message naming the entity; each unusable item is reported with the entity
    and the item's index, the others are kept (ascending, de-duplicated).
    """
    if not isinstance(rates, Sequence) or isinstance(rates, str | bytes):
        message = (
            f"{entity_id}: attribute 'rates' is {type(rates).__name__}, expected a list"
        )
        return RateFetch((), (message,))
    rejected: list[str] = []
    slots: list[PriceSlot] = []
    for index, item in enumerate(rates):
        if not isinstance(item, Mapping):
            rejected.append(
                f"{entity_id}: rates[{index}] is {type(item).__name__}, "
                "expected a mapping"
            )
            continue
        try:
            slots.append(
                parse_rate(
                    item,
                    start_key="start",
                    end_key="end",
                    value_key="value_inc_vat",
                    scale=GBP_TO_PENCE,
                )
            )
        except InvalidPriceRecord as err:
            rejected.append(f"{entity_id}: rates[{index}]: {err}")
    merged = merge_slots((), slots)
    rejected.extend(f"{entity_id}: {message}" for message in merged.rejected)
    return RateFetch(merged.slots, tuple(rejected))
