"""The services of flexibility events: ``hems.flex_event``, ``hems.flex_respond``."""

from datetime import datetime
from typing import Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN
from .flex import FlexEventError, Source, event_from_fields
from .flex_manager import FlexManager
from .flex_settings import FlexSettings

SERVICE_FLEX_EVENT: Final = "flex_event"
SERVICE_FLEX_RESPOND: Final = "flex_respond"

ATTR_ACTION: Final = "action"
ATTR_EVENT: Final = "event"
ATTR_RESPONSE: Final = "response"

_NUMBER = probatio.Coerce(float)

FLEX_EVENT_SCHEMA: Final = probatio.Schema(
    {
        probatio.Optional(ATTR_ACTION, default="add"): probatio.In(["add", "cancel"]),
        probatio.Optional("id"): cv.string,
        probatio.Optional("direction"): probatio.In(["down", "up"]),
        probatio.Optional("start"): cv.datetime,
        probatio.Optional("end"): cv.datetime,
        probatio.Optional("max_import_kw"): _NUMBER,
        probatio.Optional("min_import_kw"): _NUMBER,
        probatio.Optional("reward_p_per_kwh"): _NUMBER,
        probatio.Optional("points_per_kwh"): _NUMBER,
        probatio.Optional("pence_per_point"): _NUMBER,
        probatio.Optional("free"): cv.boolean,
        probatio.Optional("baseline_days"): probatio.Coerce(int),
        probatio.Optional("title"): cv.string,
    }
)
FLEX_RESPOND_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_EVENT): cv.string,
        probatio.Required(ATTR_RESPONSE): probatio.In(["accept", "decline"]),
    }
)


def _managers(hass: HomeAssistant) -> list[tuple[FlexManager, FlexSettings]]:
    managers = [
        (entry.runtime_data.flex, FlexSettings.from_options(entry.options))
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]
    if not managers:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_loaded"
        )
    return managers


def _local(value: datetime) -> datetime:
    """Return ``value`` with a zone (local time if it has none)."""
    return (
        value if value.tzinfo else value.replace(tzinfo=dt_util.get_default_time_zone())
    )


def _unknown(ref: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="flex_unknown_event",
        translation_placeholders={"event": ref},
    )


async def _async_flex_event(call: ServiceCall) -> None:
    data = dict(call.data)
    action = data.pop(ATTR_ACTION)
    for manager, settings in _managers(call.hass):
        if action == "cancel":
            ref = data.get("id")
            if not ref or (record := manager.find(ref)) is None:
                raise _unknown(str(ref))
            await manager.async_cancel(record.event.key)
            continue
        for name in ("start", "end"):
            if isinstance(data.get(name), datetime):
                data[name] = _local(data[name])
        try:
            event = event_from_fields(
                data, Source.SERVICE, pence_per_point=settings.pence_per_point
            )
            await manager.async_offer(event)
        except FlexEventError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="flex_invalid",
                translation_placeholders={"error": str(err)},
            ) from err


async def _async_flex_respond(call: ServiceCall) -> None:
    ref = call.data[ATTR_EVENT]
    for manager, _ in _managers(call.hass):
        record = manager.find(ref)
        if record is None:
            raise _unknown(ref)
        try:
            await manager.async_respond(
                record.event.key, accept=call.data[ATTR_RESPONSE] == "accept"
            )
        except KeyError as err:
            raise _unknown(ref) from err


@callback
def async_setup_flex_services(hass: HomeAssistant) -> None:
    """Register the flexibility-event services."""
    hass.services.async_register(
        DOMAIN, SERVICE_FLEX_EVENT, _async_flex_event, schema=FLEX_EVENT_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_FLEX_RESPOND, _async_flex_respond, schema=FLEX_RESPOND_SCHEMA
    )
