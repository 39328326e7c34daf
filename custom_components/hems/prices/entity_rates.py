"""Rates published by the Octopus Energy integration for Home Assistant.

BottlecapDave/HomeAssistant-OctopusEnergy ("OE") exposes each meter's
half-hourly rates on event entities
`event.octopus_energy_electricity_{serial}_{mpan}[_export]_{day}_day_rates`
(`day` is `previous`, `current` or `next`; the serial is lower-cased and an
export meter's entities have `_export`; gas meters have `..._gas_...`).  What
an event carries, as OE builds it, becomes the entity's attributes::

    {"event_type": "octopus_energy_electricity_current_day_rates",
     "event_types": ["octopus_energy_electricity_current_day_rates"],
     "rates": [
         {"start": datetime(2024, 6, 1, 0, 0, tzinfo=ZoneInfo("Europe/London")),
          "end": datetime(2024, 6, 1, 0, 30, tzinfo=ZoneInfo("Europe/London")),
          "value_inc_vat": 0.152345,  # GBP/kWh, rounded to 6 decimals
          "is_capped": False},        # + "is_intelligent_adjusted" on some tariffs
         ...],
     "min_rate": 0.1, "max_rate": 0.3, "average_rate": 0.2,
     "mpan": "1200012345678", "serial_number": "21L1234567",
     "tariff_code": "E-1R-AGILE-24-10-01-C"}

Times are datetimes in Home Assistant's time zone; the tariff code, MPAN and
serial number are only at the top level.  Before its first event an entity
has no `rates` at all (`event_type` is None); from midnight until tomorrow's
rates are published (about 16:00 UK time) the next-day entity has
`rates: []`.  After a restart the attributes come back from Home Assistant's
saved state, where OE turns the saved ISO strings back into local datetimes
(and an all-digit serial number into an int); read through the REST API or a
JSON copy, the times are ISO strings with an offset.  Both are accepted;
other keys are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
import re
from typing import Any, Final

from .exceptions import InvalidPriceRecord
from .models import PriceSlot, RateFetch
from .validation import merge_slots, parse_rate

GBP_TO_PENCE: Final = 100.0
OCTOPUS_ENERGY_DOMAIN: Final = "octopus_energy"

# The unique id (and default object id) of OE's rates entities; a duplicate
# entity id may carry a "_2" suffix.
_NAME = re.compile(
    r"^octopus_energy_(?P<fuel>electricity|gas)_(?P<serial>.+)_(?P<point>\d+)"
    r"(?P<export>_export)?_(?P<day>previous|current|next)_day_rates(?:_\d+)?$"
)
_EVENT_TYPE = re.compile(
    r"^octopus_energy_(?P<fuel>electricity|gas)_(?P<day>previous|current|next)"
    r"_day_rates$"
)
# Words of a product code that make it an export tariff (Agile Outgoing,
# Outgoing Fixed, Flux export, ...).
_EXPORT_WORDS: Final = frozenset({"OUTGOING", "EXPORT"})


class RatesDay(StrEnum):
    """Which day an OE rates entity covers."""

    PREVIOUS = "previous"
    CURRENT = "current"
    NEXT = "next"


@dataclass(frozen=True, kw_only=True)
class RatesEntity:
    """What a rates entity is, from its id, unique id and attributes.

    `day` is set for OE's rates entities only; `meter` identifies the meter
    (normalised serial and MPAN/MPRN) when that can be told; `name` is the
    entity's OE name (unique id or object id) when it has one; `rates` is
    None while the entity has no `rates` attribute.
    """

    entity_id: str
    gas: bool = False
    export: bool = False
    day: RatesDay | None = None
    meter: str | None = None
    name: str = ""
    rates: RateFetch | None = None


@dataclass(frozen=True, kw_only=True)
class RatesProblem:
    """Why a choice of rates entities cannot be a price source.

    `key` is the config flow's error key; `entity` (and `other`, `error`)
    fill its message.
    """

    key: str
    entity: str
    other: str = ""
    error: str = ""


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


def _meter(serial: object, point: object) -> str:
    """Return a meter's key: its serial without case or punctuation, and MPAN."""
    return re.sub(r"[^0-9a-z]", "", str(serial).lower()) + "/" + str(point)


def _is_export_tariff(code: object) -> bool:
    return isinstance(code, str) and not _EXPORT_WORDS.isdisjoint(
        code.upper().split("-")
    )


def describe_rates_entity(
    entity_id: str, attributes: Mapping[str, Any], *, unique_id: str | None = None
) -> RatesEntity:
    """Tell what the entity `entity_id` with `attributes` is.

    `unique_id` is the entity's unique id when it belongs to OE (it survives a
    renamed entity id).  OE's entities are recognised by that unique id, the
    entity id or their `event_types`; an export entity by `_export` in either
    name, an `is_export` attribute or an export product in `tariff_code`; a
    gas one by its name or a `G-` tariff code.
    """
    object_id = entity_id.partition(".")[2]
    name = unique_id or object_id
    match = _NAME.match(name) or _NAME.match(object_id)
    event_types = attributes.get("event_types")
    typed = (
        next(
            filter(None, (_EVENT_TYPE.match(str(kind)) for kind in event_types)),
            None,
        )
        if isinstance(event_types, list | tuple)
        else None
    )
    tariff = attributes.get("tariff_code")
    meter = None
    if attributes.get("mpan") is not None and attributes.get("serial_number"):
        meter = _meter(attributes["serial_number"], attributes["mpan"])
    elif match is not None:
        meter = _meter(match["serial"], match["point"])
    found = match or typed
    rates = attributes.get("rates")
    return RatesEntity(
        entity_id=entity_id,
        gas=(found is not None and found["fuel"] == "gas")
        or (isinstance(tariff, str) and tariff.upper().startswith("G-")),
        export=(match is not None and match["export"] is not None)
        or attributes.get("is_export") is True
        or _is_export_tariff(tariff),
        day=RatesDay(found["day"]) if found is not None else None,
        meter=meter,
        name=match.group(0) if match is not None else "",
        rates=None
        if rates is None
        else parse_rates_attribute(rates, entity_id=entity_id),
    )


def _unusable(entity: RatesEntity) -> RatesProblem | None:
    """Say why an entity's rates cannot be used, if they were read and cannot."""
    if entity.rates is None or entity.rates.slots or not entity.rates.rejected:
        return None
    return RatesProblem(
        key="no_rates", entity=entity.entity_id, error=entity.rates.rejected[0]
    )


def _counterpart(entity: RatesEntity, day: RatesDay) -> str:
    """Return the entity id OE gives the `day` rates of `entity`'s meter."""
    if entity.name:
        suffix = re.compile(r"_(previous|current|next)_day_rates(_\d+)?$")
        return "event." + suffix.sub(f"_{day}_day_rates", entity.name)
    return f"the {day} day rates entity of the same meter"


def _kind_problem(entity: RatesEntity, *, export: bool = False) -> RatesProblem | None:
    """Say why `entity` is no import (or, with `export`, export) price source."""
    if entity.export and not export:
        return RatesProblem(key="export_rates", entity=entity.entity_id)
    if export and not entity.export:
        return RatesProblem(key="import_rates", entity=entity.entity_id)
    if entity.gas:
        return RatesProblem(key="gas_rates", entity=entity.entity_id)
    if entity.day is RatesDay.PREVIOUS:
        return RatesProblem(key="previous_day_rates", entity=entity.entity_id)
    if entity.day is None and (entity.rates is None or not entity.rates.slots):
        return _unusable(entity) or RatesProblem(
            key="no_rates",
            entity=entity.entity_id,
            error="its 'rates' attribute is missing or empty",
        )
    return None


def _pair_problem(days: Mapping[RatesDay, RatesEntity]) -> RatesProblem | None:
    """Say what is wrong with OE's current-day and next-day entities."""
    for day in (RatesDay.CURRENT, RatesDay.NEXT):
        if day not in days:
            present = next(iter(days.values()))
            return RatesProblem(
                key="pair_incomplete",
                entity=present.entity_id,
                other=_counterpart(present, day),
            )
    current = days[RatesDay.CURRENT]
    if problem := _unusable(current) or _unusable(days[RatesDay.NEXT]):
        return problem
    if current.rates is None or not current.rates.slots:
        return RatesProblem(key="no_rates_yet", entity=current.entity_id)
    return None


def rates_entities_problem(
    entities: Sequence[RatesEntity], *, export: bool = False
) -> RatesProblem | None:
    """Return why `entities` cannot be the import price source, or None.

    With `export`, why they cannot be the export price source: then every
    entity must be an export rates entity (the same pair rules apply).

    A choice makes sense when no entity is an export or gas rates entity or
    a previous-day one, and OE's entities are the current-day and the
    next-day entity of one meter.  The current-day one must have rates:
    OE publishes today's within minutes of starting, so none means it has not
    started yet or cannot get them.  The next-day one may have none (before
    its first event, and `[]` from midnight until about 16:00).  Any other
    entity must have usable rates.
    """
    days: dict[RatesDay, RatesEntity] = {}
    seen: set[str] = set()
    for entity in entities:
        if entity.entity_id in seen:
            continue
        seen.add(entity.entity_id)
        if problem := _kind_problem(entity, export=export):
            return problem
        if entity.day is None:
            continue
        clash = days.get(entity.day) or next(
            (
                other
                for other in days.values()
                if other.meter and entity.meter and other.meter != entity.meter
            ),
            None,
        )
        if clash is not None:
            return RatesProblem(
                key="different_meters", entity=clash.entity_id, other=entity.entity_id
            )
        days[entity.day] = entity
    return _pair_problem(days) if days else None
