"""Grid import per half-hour from the recorder: what delivered events are measured by.

The Energy dashboard's grid import meters, as their statistics give them
(five-minute periods where the recorder still has them, else half the hour).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from .const import LOGGER
from .house_load import FIVE_MINUTES, HOUR
from .site_inputs import async_energy_preferences, meter_ids, meter_series


async def async_grid_import(
    hass: HomeAssistant, start: datetime, end: datetime
) -> dict[datetime, float]:
    """Return the grid import kWh per UTC half-hour in [start, end) ({}: unknown)."""
    if "recorder" not in hass.config.components:
        return {}
    meters = meter_ids(await async_energy_preferences(hass)).grid_import
    if not meters:
        return {}
    try:
        return await get_instance(hass).async_add_executor_job(
            _read, hass, meters, start, end
        )
    except Exception:  # noqa: BLE001 - a database error: delivered stays unknown
        LOGGER.debug("Reading grid import statistics failed", exc_info=True)
        return {}


def _read(
    hass: HomeAssistant, meters: Sequence[str], start: datetime, end: datetime
) -> dict[datetime, float]:
    metadata = get_metadata(hass, statistic_ids=set(meters))
    usable = {
        stat
        for stat in meters
        if stat in metadata and metadata[stat][1].get("unit_class") == "energy"
    }
    if len(usable) < len(set(meters)):
        return {}
    units = {"energy": "kWh"}
    types: set[
        Literal["change", "last_reset", "max", "mean", "min", "state", "sum"]
    ] = {"sum"}
    hourly = statistics_during_period(
        hass, start - HOUR, end, usable, "hour", units, types
    )
    five_minute = statistics_during_period(
        hass, start - FIVE_MINUTES, end, usable, "5minute", units, types
    )
    series = meter_series(hourly, five_minute, sorted(usable))
    common = set(series[0]).intersection(*series[1:]) if series else set()
    return {
        slot: sum(meter[slot] for meter in series)
        for slot in common
        if start <= slot < end
    }
