"""hems: plans flexible loads into the cheapest half-hours of a dynamic tariff."""

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_state_change_event

from .const import (
    CONF_API_KEY,
    CONF_PRODUCT,
    CONF_RATES_ENTITIES,
    CONF_REGION,
    CONF_REPLAY_FILE,
    CONF_SOURCE,
    PriceSourceType,
)
from .coordinator import HemsPriceCoordinator
from .prices import OctopusClient
from .sources import EntityRatesSource, OctopusApiSource, PriceSource, ReplayFileSource

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]


@dataclass(kw_only=True)
class HemsRuntimeData:
    """What a loaded hems entry holds."""

    prices: HemsPriceCoordinator


type HemsConfigEntry = ConfigEntry[HemsRuntimeData]


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


async def async_setup_entry(hass: HomeAssistant, entry: HemsConfigEntry) -> bool:
    """Set up hems from a config entry."""
    source = build_source(hass, entry)
    coordinator = HemsPriceCoordinator(hass, entry, source)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = HemsRuntimeData(prices=coordinator)

    if isinstance(source, EntityRatesSource):

        async def _rates_changed(event: Event[EventStateChangedData]) -> None:
            await coordinator.async_source_changed()

        entry.async_on_unload(
            async_track_state_change_event(hass, source.entity_ids, _rates_changed)
        )

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: HemsConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
