"""Battery mode select: shows the mode now; choosing one overrides this slot."""

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import HemsConfigEntry
from .actuation import POWER_PREFIX
from .load_changes import register_adder
from .load_config import ALL_BATTERY_MODES, BatteryConfig, BatteryControl, LoadConfig
from .load_entity import HemsLoadEntity
from .planner import BatteryMode
from .price_data import slot_start
from .prices import SLOT

PARALLEL_UPDATES = 1

BATTERY_MODE = SelectEntityDescription(
    key="battery_mode",
    translation_key="battery_mode",
    options=[mode.value for mode in BatteryMode],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HemsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a mode select per battery."""
    plan = entry.runtime_data.plan

    def add(load: LoadConfig) -> None:
        if isinstance(load, BatteryConfig):
            async_add_entities(
                [BatteryModeSelect(plan, load, BATTERY_MODE)],
                config_subentry_id=load.id,
            )

    register_adder(entry, add)


class BatteryModeSelect(HemsLoadEntity, SelectEntity):
    """The battery's mode for the current half-hour."""

    @property
    def options(self) -> list[str]:
        """Return the modes this battery's inverter offers."""
        load = self.load
        if isinstance(load, BatteryConfig) and load.control is BatteryControl.MODES:
            return list(load.modes)
        return list(ALL_BATTERY_MODES)

    @property
    def current_option(self) -> str | None:
        """Return the mode wanted now (override or plan)."""
        wanted = self.coordinator.desired(self.load, dt_util.utcnow())
        if wanted is not None and wanted.startswith(POWER_PREFIX):
            kw = float(wanted.removeprefix(POWER_PREFIX))
            return (
                "force_charge"
                if kw > 0
                else "force_discharge"
                if kw < 0
                else ("charge_only")
            )
        return wanted

    async def async_select_option(self, option: str) -> None:
        """Override the mode until the end of the current half-hour."""
        now = dt_util.utcnow()
        await self.coordinator.async_override(
            self.load.id, option, until=slot_start(now) + SLOT
        )
