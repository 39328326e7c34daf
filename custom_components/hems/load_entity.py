"""Base entity of a controlled load: one device per load subentry."""

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .load_config import LoadConfig
from .plan_coordinator import HemsPlanCoordinator


class HemsLoadEntity(CoordinatorEntity[HemsPlanCoordinator]):
    """An entity of one controlled load, fed by the plan coordinator."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: HemsPlanCoordinator,
        load: LoadConfig,
        description: EntityDescription,
    ) -> None:
        """Initialise the entity for a load."""
        super().__init__(coordinator)
        self.entity_description = description
        self.load = load
        self._attr_unique_id = f"{load.id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, load.id)},
            name=load.name,
            manufacturer="hems",
            model=load.kind.value.replace("_", " ").capitalize(),
        )


class HemsPlanEntity(CoordinatorEntity[HemsPlanCoordinator]):
    """An entity of the whole plan, on the main hems device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: HemsPlanCoordinator, description: EntityDescription
    ) -> None:
        """Initialise the entity on the price device of the entry."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}_prices")}
        )
