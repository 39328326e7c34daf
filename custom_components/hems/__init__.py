"""hems: plans flexible loads into the cheapest half-hours of a dynamic tariff."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
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
    PriceSourceType,
)
from .coordinator import HemsPriceCoordinator
from .export_settings import ExportSettings, ExportSource
from .flex_manager import FlexManager
from .flex_settings import FlexSettings
from .flex_sources import async_follow_flex_sources
from .flex_usage import async_grid_import
from .frontend import async_register_card
from .load_changes import (
    LoadBook,
    async_apply_changes,
    load_configs,
    new_book,
    reload_key,
)
from .plan_coordinator import HemsPlanCoordinator
from .prices import OctopusClient
from .renames import async_follow_renames
from .services import async_setup_services
from .site_inputs import HouseLoadCoordinator, SolarCoordinator
from .sources import (
    EntityRatesSource,
    FixedRateSource,
    OctopusApiSource,
    PriceSource,
    ReplayFileSource,
)

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
    book: LoadBook
    # The solar forecast and the learnt house load (site_inputs.py).
    solar: SolarCoordinator
    house: HouseLoadCoordinator
    # What exported energy earns (None: nothing).
    export_prices: HemsPriceCoordinator | None = None
    # Turn-down and turn-up events (flex_manager.py).
    flex: FlexManager


type HemsConfigEntry = ConfigEntry[HemsRuntimeData]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services and the dashboard card."""
    async_setup_services(hass)
    await async_register_card(hass)
    return True


def build_export_source(
    hass: HomeAssistant, entry: HemsConfigEntry
) -> PriceSource | None:
    """Return the export price source the options name, if any."""
    settings = ExportSettings.from_options(entry.options)
    tz = ZoneInfo(hass.config.time_zone)
    match settings.source:
        case ExportSource.OCTOPUS if settings.product and settings.region:
            return OctopusApiSource(
                client=OctopusClient(async_get_clientsession(hass)),
                product=settings.product,
                region=settings.region,
                tz=tz,
            )
        case ExportSource.ENTITY if settings.entities:
            return EntityRatesSource(
                hass=hass, entity_ids=list(settings.entities), export=True
            )
        case ExportSource.FIXED if settings.rate is not None:
            return FixedRateSource(rate=settings.rate, tz=tz)
        case _:
            return None


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
    prices = HemsPriceCoordinator(hass, entry, source)
    await prices.async_config_entry_first_refresh()
    # The learnt base load, restored from its cache before the first plan.
    house = HouseLoadCoordinator(hass, entry)
    await house.async_restore()
    plan = HemsPlanCoordinator(hass, entry, prices, load_configs(hass, entry))
    plan.base_load_at = house.base_load_at
    flex = await _async_flex(hass, entry, plan)
    house.plan = plan
    # The first plan sees the solar forecast and export prices.
    solar = SolarCoordinator(hass, entry)
    await solar.async_refresh()
    plan.pv_kw_at = solar.pv_kw
    export_prices = None
    if (export_source := build_export_source(hass, entry)) is not None:
        export_prices = HemsPriceCoordinator(
            hass, entry, export_source, role="export_prices"
        )
        # A failing export source never stops hems: import prices are enough.
        await export_prices.async_refresh()
        plan.export_prices = export_prices
        entry.async_on_unload(export_prices.async_shutdown)
    await plan.async_config_entry_first_refresh()
    entry.runtime_data = HemsRuntimeData(
        prices=prices,
        plan=plan,
        book=new_book(entry),
        solar=solar,
        house=house,
        export_prices=export_prices,
        flex=flex,
    )
    _link_inputs(hass, entry)
    entry.async_on_unload(async_follow_flex_sources(hass, entry, flex))

    if isinstance(source, EntityRatesSource):

        async def _rates_changed(event: Event[EventStateChangedData]) -> None:
            await prices.async_source_changed()

        entry.async_on_unload(
            async_track_state_change_event(hass, source.entity_ids, _rates_changed)
        )
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    entry.async_on_unload(async_follow_renames(hass, entry))
    # Stop the timers and release relay hardware when the entry unloads.
    entry.async_on_unload(plan.async_shutdown)
    entry.async_on_unload(prices.async_shutdown)

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await plan.async_start()
    return True


async def _async_flex(
    hass: HomeAssistant, entry: HemsConfigEntry, plan: HemsPlanCoordinator
) -> FlexManager:
    """Restore the flexibility events; accepted ones change the planned prices."""

    def usage(start: datetime, end: datetime) -> Any:
        return async_grid_import(hass, start, end)

    flex = FlexManager(
        hass,
        entry.entry_id,
        lambda: FlexSettings.from_options(entry.options),
        usage,
    )
    await flex.async_load()
    entry.async_on_unload(flex.async_shutdown)
    plan.flex_prices = flex.adjust
    plan.flex_accepted = flex.accepted

    @callback
    def _replan() -> None:
        hass.async_create_task(plan.async_request_replan())

    flex.on_prices_changed = _replan
    return flex


def _link_inputs(hass: HomeAssistant, entry: HemsConfigEntry) -> None:
    """Refresh the solar forecast and the house load rarely, and show them."""
    runtime = entry.runtime_data
    plan, prices, solar, house = (
        runtime.plan,
        runtime.prices,
        runtime.solar,
        runtime.house,
    )

    @callback
    def _prices_updated() -> None:
        slots = prices.data.slots if prices.data else ()
        solar.prices_changed(slots[-1].end if slots else None)

    planned_with = [house.data.profile.kw if house.data else {}]

    @callback
    def _house_learnt() -> None:
        profile = house.data.profile.kw if house.data else {}
        if profile != planned_with[0]:
            planned_with[0] = profile
            hass.async_create_task(plan.async_request_replan())

    # A new solar forecast, export prices or house profile re-plans.
    entry.async_on_unload(solar.async_add_listener(plan.site_inputs_updated))
    if runtime.export_prices is not None:
        entry.async_on_unload(
            runtime.export_prices.async_add_listener(plan.site_inputs_updated)
        )
    entry.async_on_unload(house.async_add_listener(_house_learnt))
    entry.async_on_unload(prices.async_add_listener(_prices_updated))
    entry.async_on_unload(solar.async_start())
    entry.async_on_unload(solar.async_stop)
    entry.async_on_unload(house.async_start())
    entry.async_on_unload(house.async_save)


async def _async_entry_updated(hass: HomeAssistant, entry: HemsConfigEntry) -> None:
    """Reload for a new price source; change loads and site options in place."""
    if reload_key(entry) != entry.runtime_data.book.reload_key:
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    await entry.runtime_data.solar.async_settings_changed()
    await entry.runtime_data.house.async_settings_changed()
    if await async_apply_changes(hass, entry):
        await entry.runtime_data.plan.async_replan()


async def async_unload_entry(hass: HomeAssistant, entry: HemsConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
