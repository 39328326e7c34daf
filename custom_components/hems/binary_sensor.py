"""Binary sensor: whether tomorrow's prices are all known."""

from datetime import timedelta

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import HemsConfigEntry
from .entity import HemsPriceEntity
from .load_changes import register_adder
from .load_config import LoadConfig
from .load_sensor import LOAD_BINARY_SENSORS, LoadBinarySensor

PARALLEL_UPDATES = 0

TOMORROW_AVAILABLE = BinarySensorEntityDescription(
    key="tomorrow_available", translation_key="tomorrow_available"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HemsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the binary sensors."""
    async_add_entities(
        [TomorrowAvailableSensor(entry.runtime_data.prices, TOMORROW_AVAILABLE)]
    )
    plan = entry.runtime_data.plan

    def add(load: LoadConfig) -> None:
        async_add_entities(
            [
                LoadBinarySensor(plan, load, description)
                for description in LOAD_BINARY_SENSORS
                if description.applies_fn(load)
            ],
            config_subentry_id=load.id,
        )

    register_adder(entry, add)


class TomorrowAvailableSensor(HemsPriceEntity, BinarySensorEntity):
    """On once every half-hour of tomorrow (local time) has a price."""

    @property
    def is_on(self) -> bool:
        """Return whether tomorrow's prices are complete."""
        data = self.coordinator.data
        tomorrow = data.local_date(dt_util.utcnow()) + timedelta(days=1)
        return data.day_complete(tomorrow)
