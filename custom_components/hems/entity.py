"""Base entity for hems."""

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import HemsPriceCoordinator


class HemsPriceEntity(CoordinatorEntity[HemsPriceCoordinator]):
    """An entity of the price device, fed by the price coordinator."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: HemsPriceCoordinator, description: EntityDescription
    ) -> None:
        """Initialise the entity with its description."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry_id}_prices")},
            name=coordinator.config_entry.title,
            entry_type=DeviceEntryType.SERVICE,
            manufacturer="hems",
        )
