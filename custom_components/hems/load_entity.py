"""Base entity of a controlled load: one device per load subentry."""

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .load_config import LoadConfig, LoadKind
from .plan_coordinator import HemsPlanCoordinator

MODELS = {
    LoadKind.EV_CHARGER: "EV charger",
    LoadKind.IMMERSION: "Immersion heater",
    LoadKind.DISHWASHER: "Dishwasher",
    LoadKind.WASHING_MACHINE: "Washing machine",
    LoadKind.BATTERY: "Home battery",
}


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
        self._load_id = load.id
        self._load = load
        self._attr_unique_id = f"{load.id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, load.id)},
            name=load.name,
            manufacturer="hems",
            model=MODELS[load.kind],
        )

    @property
    def load(self) -> LoadConfig:
        """Return the load's settings in force (they change when it is edited)."""
        self._load = self.coordinator.loads.get(self._load_id, self._load)
        return self._load

    @property
    def available(self) -> bool:
        """Unavailable while the load is not planned (its settings are invalid)."""
        return super().available and self._load_id in self.coordinator.loads


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
