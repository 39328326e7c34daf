"""hems: plans flexible loads into the cheapest half-hours of a dynamic tariff."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_API_KEY,
    CONF_PRODUCT,
    CONF_RATES_ENTITIES,
    CONF_REGION,
    CONF_REPLAY_FILE,
    CONF_SOURCE,
    DOMAIN,
    LOGGER,
    SUBENTRY_LOAD,
    PriceSourceType,
)
from .coordinator import HemsPriceCoordinator
from .frontend import async_register_card
from .load_config import LoadConfig, parse_load
from .plan_coordinator import HemsPlanCoordinator
from .prices import OctopusClient
from .renames import async_follow_renames
from .services import async_setup_services
from .sources import EntityRatesSource, OctopusApiSource, PriceSource, ReplayFileSource

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


@dataclass(kw_only=True)
class HemsRuntimeData:
    """What a loaded hems entry holds."""

    prices: HemsPriceCoordinator
    plan: HemsPlanCoordinator
    snapshot: Any


type HemsConfigEntry = ConfigEntry[HemsRuntimeData]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services and the dashboard card."""
    async_setup_services(hass)
    await async_register_card(hass)
    return True


def build_source(hass: HomeAssistant, entry: HemsConfigEntry) -> PriceSource:
    """Return the price source the entry is configured with."""
    tz = ZoneInfo(hass.config.time_zone)
    match PriceSourceType(entry.data[CONF_SOURCE]):
        case PriceSourceType.OCTOPUS:
            return OctopusApiSource(
                client=OctopusClient(
                    async_get_clientsession(hass),
                    api_key=entry.options.get(CONF_API_KEY) or None,
                ),
                product=entry.data[CONF_PRODUCT],
                region=entry.data[CONF_REGION],
                tz=tz,
            )
        case PriceSourceType.ENTITY:
            return EntityRatesSource(
                hass=hass, entity_ids=list(entry.data[CONF_RATES_ENTITIES])
            )
        case PriceSourceType.REPLAY:
            return ReplayFileSource(
                hass=hass, path=Path(entry.data[CONF_REPLAY_FILE]), tz=tz
            )


def load_configs(hass: HomeAssistant, entry: HemsConfigEntry) -> dict[str, LoadConfig]:
    """Parse every load subentry; a broken one is a repair issue, not a crash."""
    loads: dict[str, LoadConfig] = {}
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type != SUBENTRY_LOAD:
            continue
        issue_id = f"invalid_load_{subentry_id}"
        try:
            loads[subentry_id] = parse_load(subentry_id, subentry.data)
        except (TypeError, ValueError) as err:  # LoadConfigError names the field
            LOGGER.error("Load %s is not planned: %s", subentry.title, err)
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="invalid_load",
                translation_placeholders={"load": subentry.title, "error": str(err)},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    return loads


def _snapshot(entry: HemsConfigEntry) -> Any:
    """Return what a change of which needs a reload."""
    return (
        dict(entry.data),
        dict(entry.options),
        {key: (sub.title, dict(sub.data)) for key, sub in entry.subentries.items()},
    )


async def async_setup_entry(hass: HomeAssistant, entry: HemsConfigEntry) -> bool:
    """Set up hems from a config entry."""
    source = build_source(hass, entry)
    prices = HemsPriceCoordinator(hass, entry, source)
    await prices.async_config_entry_first_refresh()
    plan = HemsPlanCoordinator(hass, entry, prices, load_configs(hass, entry))
    await plan.async_config_entry_first_refresh()
    entry.runtime_data = HemsRuntimeData(
        prices=prices, plan=plan, snapshot=_snapshot(entry)
    )

    if isinstance(source, EntityRatesSource):

        async def _rates_changed(event: Event[EventStateChangedData]) -> None:
            await prices.async_source_changed()

        entry.async_on_unload(
            async_track_state_change_event(hass, source.entity_ids, _rates_changed)
        )
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    entry.async_on_unload(async_follow_renames(hass, entry, _snapshot))
    # Stop the timers and release relay hardware when the entry unloads.
    entry.async_on_unload(plan.async_shutdown)
    entry.async_on_unload(prices.async_shutdown)

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await plan.async_start()
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: HemsConfigEntry) -> None:
    """Reload when settings, options or loads changed (not on title changes)."""
    if _snapshot(entry) != entry.runtime_data.snapshot:
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: HemsConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
