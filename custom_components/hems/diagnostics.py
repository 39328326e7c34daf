"""Diagnostics for hems (the API key and account number are redacted)."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from . import HemsConfigEntry
from .const import CONF_ACCOUNT_NUMBER, CONF_API_KEY
from .site_inputs import site_inputs_diagnostics

TO_REDACT = {CONF_API_KEY, CONF_ACCOUNT_NUMBER}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HemsConfigEntry
) -> dict[str, Any]:
    """Return the entry's settings and the state of its price coordinator."""
    prices = entry.runtime_data.prices
    plan = entry.runtime_data.plan
    schedule = plan.data
    slots = prices.data.slots
    holes = prices.data.missing(*prices.data.expected_span(dt_util.utcnow()))
    return {
        "data": async_redact_data(dict(entry.data), TO_REDACT),
        "options": async_redact_data(dict(entry.options), TO_REDACT),
        "prices": {
            "source": prices.source.key,
            "known_slots": len(slots),
            "first_start": slots[0].start.isoformat() if slots else None,
            "last_end": slots[-1].end.isoformat() if slots else None,
            "last_fetch": prices.last_fetch.isoformat() if prices.last_fetch else None,
            "last_error": prices.last_error,
            "rejected": list(prices.rejected),
            "incomplete": prices.incomplete,
            "missing": [start.isoformat() for start in holes],
            "update_interval": str(prices.update_interval),
        },
        "loads": {
            load_id: {
                "name": load.name,
                "kind": load.kind.value,
                "switched_by": plan.actuators[load_id].description,
                "actuator_error": plan.actuator_errors.get(load_id),
            }
            for load_id, load in plan.loads.items()
        },
        "plan": {
            "last_error": plan.last_error,
            "created": schedule.created.isoformat() if schedule else None,
            "slots": len(schedule.slot_starts) if schedule else 0,
            "cost": schedule.cost if schedule else None,
            "notes": list(schedule.notes) if schedule else [],
        },
        "state": plan.state.as_dict(),
        **site_inputs_diagnostics(entry.runtime_data.solar, entry.runtime_data.house),
        "flex": entry.runtime_data.flex.diagnostics(),
    }
