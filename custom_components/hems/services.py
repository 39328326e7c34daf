"""Services: re-plan, override a load, set a one-off requirement."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.util import dt as dt_util
import probatio

from .actuation import OFF, ON
from .const import DOMAIN
from .flex_services import async_setup_flex_services
from .load_config import (
    ALL_BATTERY_MODES,
    BatteryConfig,
    BatteryControl,
    InterruptibleConfig,
    LoadConfig,
)
from .price_data import slot_start
from .prices import SLOT

if TYPE_CHECKING:
    from .plan_coordinator import HemsPlanCoordinator

SERVICE_REPLAN = "replan"
SERVICE_OVERRIDE = "override"
SERVICE_SET_REQUIREMENT = "set_requirement"

ATTR_STATE = "state"
ATTR_UNTIL = "until"
ATTR_HOURS = "hours"
ATTR_BY = "by"

OVERRIDE_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_ENTITY_ID): cv.entity_id,
        probatio.Required(ATTR_STATE): probatio.In([ON, OFF, *ALL_BATTERY_MODES]),
        probatio.Optional(ATTR_UNTIL): cv.datetime,
    }
)
REQUIREMENT_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_ENTITY_ID): cv.entity_id,
        probatio.Required(ATTR_HOURS): probatio.All(
            probatio.Coerce(float), probatio.Range(min=0.5, max=48)
        ),
        probatio.Required(ATTR_BY): cv.datetime,
    }
)


def _coordinators(hass: HomeAssistant) -> list[HemsPlanCoordinator]:
    return [
        entry.runtime_data.plan
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _resolve(
    hass: HomeAssistant, entity_id: str
) -> tuple[HemsPlanCoordinator, LoadConfig]:
    """Find the load that an entity of hems belongs to."""
    entity = er.async_get(hass).async_get(entity_id)
    if entity is not None and entity.platform == DOMAIN:
        for coordinator in _coordinators(hass):
            if entity.config_subentry_id in coordinator.loads:
                return coordinator, coordinator.loads[entity.config_subentry_id]
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_load",
        translation_placeholders={"entity_id": entity_id},
    )


# The furthest an override or a requirement may reach: beyond it, the
# Automatic switch (off) is the way to leave a load alone.
MAX_AHEAD = timedelta(days=366)


def _aware(value: datetime, now: datetime) -> datetime:
    """Return ``value`` in UTC (local time if it has no zone); at most a year on."""
    local = (
        value if value.tzinfo else value.replace(tzinfo=dt_util.get_default_time_zone())
    )
    try:
        moment = dt_util.as_utc(local)
    except OverflowError:
        moment = None
    if moment is None or moment > now + MAX_AHEAD:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="time_too_far",
            translation_placeholders={"time": str(value)},
        )
    return moment


async def _async_replan(call: ServiceCall) -> None:
    coordinators = _coordinators(call.hass)
    if not coordinators:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_loaded"
        )
    for coordinator in coordinators:
        await coordinator.async_replan()


async def _async_override(call: ServiceCall) -> None:
    coordinator, load = _resolve(call.hass, call.data[ATTR_ENTITY_ID])
    state = call.data[ATTR_STATE]
    is_mode = state in ALL_BATTERY_MODES
    offered = (
        load.modes
        if isinstance(load, BatteryConfig) and load.control is BatteryControl.MODES
        else ALL_BATTERY_MODES
    )
    if isinstance(load, BatteryConfig) != is_mode or (is_mode and state not in offered):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="wrong_state",
            translation_placeholders={"load": load.name, "state": state},
        )
    now = dt_util.utcnow()
    until = (
        _aware(call.data[ATTR_UNTIL], now)
        if ATTR_UNTIL in call.data
        else slot_start(now) + SLOT
    )
    if until <= now:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="time_in_past",
            translation_placeholders={"time": until.isoformat()},
        )
    await coordinator.async_override(load.id, state, until=until)


async def _async_set_requirement(call: ServiceCall) -> None:
    coordinator, load = _resolve(call.hass, call.data[ATTR_ENTITY_ID])
    if not isinstance(load, InterruptibleConfig):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_requirement",
            translation_placeholders={"load": load.name},
        )
    now = dt_util.utcnow()
    by = _aware(call.data[ATTR_BY], now)
    hours = call.data[ATTR_HOURS]
    if by <= now:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="time_in_past",
            translation_placeholders={"time": by.isoformat()},
        )
    if round(hours * 2) != hours * 2:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="half_hours",
            translation_placeholders={"hours": f"{hours:g}"},
        )
    await coordinator.async_set_requirement(load.id, hours=hours, by=by)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services."""
    hass.services.async_register(DOMAIN, SERVICE_REPLAN, _async_replan)
    hass.services.async_register(
        DOMAIN, SERVICE_OVERRIDE, _async_override, schema=OVERRIDE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_REQUIREMENT,
        _async_set_requirement,
        schema=REQUIREMENT_SCHEMA,
    )
    async_setup_flex_services(hass)
