"""Per-load "Automatic" switch: off means hems leaves the device alone."""

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HemsConfigEntry
from .flex_entities import async_manage_switches
from .load_changes import register_adder
from .load_config import LoadConfig
from .load_entity import HemsLoadEntity, HemsPlanEntity

PARALLEL_UPDATES = 1

AUTOMATIC = SwitchEntityDescription(
    key="automatic", translation_key="automatic", entity_category=EntityCategory.CONFIG
)
SOLAR_DIVERSION = SwitchEntityDescription(
    key="solar_diversion",
    translation_key="solar_diversion",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HemsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one automatic switch per load."""
    plan = entry.runtime_data.plan
    async_add_entities([SolarDiversionSwitch(plan, SOLAR_DIVERSION)])
    flex = entry.runtime_data.flex
    entry.async_on_unload(async_manage_switches(hass, flex, plan, async_add_entities))

    def add(load: LoadConfig) -> None:
        async_add_entities(
            [AutomaticSwitch(plan, load, AUTOMATIC)], config_subentry_id=load.id
        )

    register_adder(entry, add)


class AutomaticSwitch(HemsLoadEntity, SwitchEntity):
    """Whether hems switches this load by the plan."""

    @property
    def available(self) -> bool:
        """Unavailable while the load's plug or relay cannot be switched."""
        return (
            super().available and self.load.id not in self.coordinator.actuator_errors
        )

    @property
    def is_on(self) -> bool:
        """Return whether the load runs automatically."""
        return self.coordinator.state.load(self.load.id).automatic

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Hand the load to hems and apply the current slot at once."""
        self.coordinator.state.load(self.load.id).automatic = True
        await self.coordinator.async_apply()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Leave the device as it is from now on."""
        self.coordinator.state.load(self.load.id).automatic = False
        await self.coordinator.async_apply()


class SolarDiversionSwitch(HemsPlanEntity, SwitchEntity):
    """Whether loads with a solar priority take live PV surplus."""

    @property
    def is_on(self) -> bool:
        """Return whether diversion is on."""
        return self.coordinator.state.diversion_enabled

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        """Say which loads take the surplus now."""
        diverter = self.coordinator.diverter
        return {
            "configured": diverter is not None,
            "diverting": sorted(
                self.coordinator.loads[load_id].name
                for load_id in (diverter.diverted if diverter else ())
                if load_id in self.coordinator.loads
            ),
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let loads take PV surplus."""
        await self.coordinator.async_set_diversion(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop diverting (loads switched on for the surplus go back to the plan)."""
        await self.coordinator.async_set_diversion(False)
