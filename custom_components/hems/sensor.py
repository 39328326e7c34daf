"""Price sensors: now, next, today's and tomorrow's statistics, the cheapest slot."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import HemsConfigEntry
from .entity import HemsPriceEntity
from .export_revenue import ExportRevenueSensor
from .flex_entities import FlexDeliveredSensor, FlexEventsSensor
from .load_changes import register_adder
from .load_config import LoadConfig
from .load_sensor import LOAD_SENSORS, TOTAL_SENSORS, LoadSensor, TotalSensor
from .price_data import PriceData
from .site_sensor import site_sensors

PARALLEL_UPDATES = 0

PRICE_UNIT = "p/kWh"

type SensorValue = float | datetime | None


@dataclass(frozen=True, kw_only=True)
class HemsPriceSensorEntityDescription(SensorEntityDescription):
    """Describes a price sensor: how to read its value from the known prices."""

    value_fn: Callable[[PriceData, datetime], SensorValue]
    attributes_fn: Callable[[PriceData, datetime], Mapping[str, Any]] | None = None


def _price(
    slot_fn: Callable[[PriceData, datetime], Any],
) -> Callable[..., float | None]:
    def value(data: PriceData, now: datetime) -> float | None:
        slot = slot_fn(data, now)
        return None if slot is None else round(slot.value, 4)

    return value


def _stat(day_offset: int, name: str) -> Callable[[PriceData, datetime], float | None]:
    def value(data: PriceData, now: datetime) -> float | None:
        day = data.local_date(now) + timedelta(days=day_offset)
        if day_offset > 0 and not data.day_complete(day):
            return None
        stats = data.day_stats(day)
        return None if stats is None else round(getattr(stats, name), 4)

    return value


def _current_attributes(data: PriceData, now: datetime) -> Mapping[str, Any]:
    """Expose every known price from today on, compactly, for dashboards."""
    today_start = data.day(data.local_date(now))
    first = today_start[0].start if today_start else now
    return {
        "prices": [
            {"start": slot.start.isoformat(), "value": round(slot.value, 4)}
            for slot in data.slots
            if slot.start >= first
        ]
    }


def _cheapest_attributes(data: PriceData, now: datetime) -> Mapping[str, Any]:
    slot = data.cheapest_upcoming(now)
    if slot is None:
        return {}
    return {"price": round(slot.value, 4), "end": slot.end.isoformat()}


def _price_description(
    key: str, value_fn: Callable[[PriceData, datetime], SensorValue], **kwargs: Any
) -> HemsPriceSensorEntityDescription:
    return HemsPriceSensorEntityDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PRICE_UNIT,
        suggested_display_precision=2,
        value_fn=value_fn,
        **kwargs,
    )


# What exported energy earns, when the options name an export price source.
EXPORT_SENSORS: tuple[HemsPriceSensorEntityDescription, ...] = (
    _price_description(
        "current_export_price",
        _price(lambda data, now: data.slot_at(now)),
        state_class=SensorStateClass.MEASUREMENT,
    ),
    _price_description(
        "next_export_price", _price(lambda data, now: data.next_slot(now))
    ),
)

SENSORS: tuple[HemsPriceSensorEntityDescription, ...] = (
    _price_description(
        "current_price",
        _price(lambda data, now: data.slot_at(now)),
        state_class=SensorStateClass.MEASUREMENT,
        attributes_fn=_current_attributes,
    ),
    _price_description("next_price", _price(lambda data, now: data.next_slot(now))),
    _price_description("today_min_price", _stat(0, "min")),
    _price_description("today_max_price", _stat(0, "max")),
    _price_description("today_mean_price", _stat(0, "mean")),
    _price_description("tomorrow_min_price", _stat(1, "min")),
    _price_description("tomorrow_max_price", _stat(1, "max")),
    _price_description("tomorrow_mean_price", _stat(1, "mean")),
    HemsPriceSensorEntityDescription(
        key="cheapest_upcoming_slot",
        translation_key="cheapest_upcoming_slot",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda data, now: (
            None if (slot := data.cheapest_upcoming(now)) is None else slot.start
        ),
        attributes_fn=_cheapest_attributes,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HemsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the price sensors."""
    coordinator = entry.runtime_data.prices
    async_add_entities(
        HemsPriceSensor(coordinator, description) for description in SENSORS
    )
    if (export := entry.runtime_data.export_prices) is not None:
        async_add_entities(
            HemsPriceSensor(export, description) for description in EXPORT_SENSORS
        )
    async_add_entities([ExportRevenueSensor(entry.entry_id, export)])
    plan = entry.runtime_data.plan
    async_add_entities(TotalSensor(plan, description) for description in TOTAL_SENSORS)
    async_add_entities(site_sensors(entry.runtime_data.solar, entry.runtime_data.house))
    flex = entry.runtime_data.flex
    async_add_entities([FlexEventsSensor(flex, plan), FlexDeliveredSensor(flex, plan)])

    def add(load: LoadConfig) -> None:
        async_add_entities(
            [
                LoadSensor(plan, load, description)
                for description in LOAD_SENSORS
                if description.applies_fn(load)
            ],
            config_subentry_id=load.id,
        )

    register_adder(entry, add)


class HemsPriceSensor(HemsPriceEntity, SensorEntity):
    """A sensor derived from the known prices at the current time."""

    entity_description: HemsPriceSensorEntityDescription
    # The full price list is for dashboards; the recorder does not need it.
    _unrecorded_attributes = frozenset({"prices"})

    @property
    def native_value(self) -> SensorValue:
        """Return the value for the current time."""
        return self.entity_description.value_fn(self.coordinator.data, dt_util.utcnow())

    @property
    def available(self) -> bool:
        """Unavailable, never made up, when the price is not known."""
        return super().available and self.native_value is not None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the description's attributes, if any."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data, dt_util.utcnow())
