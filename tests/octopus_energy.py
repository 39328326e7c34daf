"""What the Octopus Energy integration (OE) really puts on its rates entities.

Written from OE's own code, not copied: `raise_rate_events` fires one event
per day with `rates`, `min_rate`, `max_rate`, `average_rate` and, at the top
level only, `mpan`, `serial_number` and `tariff_code`; each rate item comes
from `private_rates_to_public_rates`: `start` and `end` as datetimes in Home
Assistant's time zone, `value_inc_vat` in GBP/kWh rounded to 6 decimals,
`is_capped` and, on some tariffs, `is_intelligent_adjusted`. The event
entities (`electricity/rates_*_day.py`, ids from `electricity/base.py`) show
the event's data as attributes next to `event_type` and `event_types`.

After a restart Home Assistant gives the entity its saved event back (saved
as JSON), and OE's `dict_to_typed_dict` turns its strings back into types:
ISO times into local datetimes, all-digit strings into ints and decimals into
floats, except `mpan`/`mprn`. Read through the REST API the same attributes
are plain JSON: times are ISO strings with their offset.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
SERIAL = "21L1234567"
MPAN = "1200012345678"
TARIFF = "E-1R-AGILE-24-10-01-C"
EXPORT_MPAN = "1170000123456"
EXPORT_TARIFF = "E-1R-AGILE-OUTGOING-19-05-13-C"
SLOT = timedelta(minutes=30)


def rates_entity_id(
    day: str, *, serial: str = SERIAL, mpan: str = MPAN, export: bool = False
) -> str:
    """Return the id OE gives the rates entity of `day` (previous/current/next)."""
    suffix = "_export" if export else ""
    return (
        f"event.octopus_energy_electricity_{serial.lower()}_{mpan}{suffix}"
        f"_{day}_day_rates"
    )


def rates_unique_id(entity_id: str) -> str:
    """Return OE's unique id of a rates entity (its default object id)."""
    return entity_id.removeprefix("event.")


def rate_items(
    start: datetime,
    pence: Sequence[float],
    *,
    tz: ZoneInfo = LONDON,
    intelligent: bool = False,
) -> list[dict[str, Any]]:
    """Return OE's rate items: half-hours from `start`, prices given in p/kWh."""
    begin = start.astimezone(UTC)
    items: list[dict[str, Any]] = []
    for index, value in enumerate(pence):
        slot = begin + index * SLOT
        item: dict[str, Any] = {
            "start": slot.astimezone(tz),
            "end": (slot + SLOT).astimezone(tz),
            "value_inc_vat": round(value / 100, 6),
            "is_capped": False,
        }
        if intelligent:
            item["is_intelligent_adjusted"] = False
        items.append(item)
    return items


def event_attributes(
    day: str,
    items: list[dict[str, Any]],
    *,
    serial: str = SERIAL,
    mpan: str = MPAN,
    tariff: str = TARIFF,
) -> dict[str, Any]:
    """Return a rates entity's attributes after OE's event with `items`."""
    values = [item["value_inc_vat"] for item in items]
    event_type = f"octopus_energy_electricity_{day}_day_rates"
    return {
        "event_types": [event_type],
        "event_type": event_type,
        "rates": items,
        "min_rate": min(values, default=None),
        "max_rate": max(values, default=None),
        # OE's average of no rates is 1.
        "average_rate": round(sum(values) / len(values), 8) if values else 1,
        "mpan": mpan,
        "serial_number": serial,
        "tariff_code": tariff,
    }


def before_first_event(day: str) -> dict[str, Any]:
    """Return a rates entity's attributes before OE fired its first event."""
    return {
        "event_types": [f"octopus_energy_electricity_{day}_day_rates"],
        "event_type": None,
    }


def as_json(attributes: dict[str, Any]) -> dict[str, Any]:
    """Return the attributes as JSON has them (REST API, saved state)."""
    result: dict[str, Any] = json.loads(
        json.dumps(attributes, default=datetime.isoformat)
    )
    return result


def _typed(value: Any, key: str | None, tz: ZoneInfo) -> Any:
    if isinstance(value, dict):
        return {name: _typed(item, name, tz) for name, item in value.items()}
    if isinstance(value, list):
        return [
            _typed(item, None, tz) if isinstance(item, dict) else item for item in value
        ]
    if not isinstance(value, str) or key in {"mpan", "mprn"}:
        return value
    if re.fullmatch(r"[0-9]+", value):
        return int(value)
    if re.fullmatch(r"[0-9]+\.[0-9]+", value):
        return float(value)
    try:
        return datetime.fromisoformat(value).astimezone(tz)
    except ValueError:
        return value


def restored(attributes: dict[str, Any], *, tz: ZoneInfo = LONDON) -> dict[str, Any]:
    """Return the attributes as the entity has them again after a restart."""
    result: dict[str, Any] = _typed(as_json(attributes), None, tz)
    return result
