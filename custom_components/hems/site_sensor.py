"""Sensors of the site's inputs: the solar forecast and the house-load forecast."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory, UnitOfEnergy
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .site_inputs import HouseLoadCoordinator, SolarCoordinator, SolarReading


def _device(entry_id: str) -> DeviceInfo:
    return DeviceInfo(identifiers={(DOMAIN, f"{entry_id}_prices")})


@dataclass(frozen=True, kw_only=True)
class SolarSensorDescription(SensorEntityDescription):
    """A day's solar forecast: ``days`` from today."""

    days: int


SOLAR_SENSORS = (
    SolarSensorDescription(
        key="solar_forecast_today",
        translation_key="solar_forecast_today",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        days=0,
    ),
    SolarSensorDescription(
        key="solar_forecast_tomorrow",
        translation_key="solar_forecast_tomorrow",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        days=1,
    ),
)


class SolarForecastSensor(CoordinatorEntity[SolarCoordinator], SensorEntity):
    """The solar energy forecast for a local day (unknown without a forecast)."""

    _attr_has_entity_name = True
    entity_description: SolarSensorDescription

    def __init__(
        self, coordinator: SolarCoordinator, description: SolarSensorDescription
    ) -> None:
        """Initialise on the entry's main device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = _device(entry_id)

    async def async_added_to_hass(self) -> None:
        """Move on to the next day at local midnight."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_time_change(
                self.hass, self._async_midnight, hour=0, minute=0, second=1
            )
        )

    @callback
    def _async_midnight(self, now: datetime) -> None:
        self.async_write_ha_state()

    @property
    def _reading(self) -> SolarReading | None:
        return self.coordinator.data

    @property
    def native_value(self) -> float | None:
        """Return the day's forecast kWh, None where no forecast covers it."""
        reading = self._reading
        if reading is None:
            return None
        day = dt_util.now(self.coordinator.tz).date() + timedelta(
            days=self.entity_description.days
        )
        kwh = reading.forecast.day_kwh(day, self.coordinator.tz)
        return None if kwh is None else round(kwh, 2)

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        """Say where the forecast comes from and how far it reaches."""
        reading = self._reading
        settings = self.coordinator.settings
        if reading is None:
            return {"source": settings.forecast_source.value}
        forecast = reading.forecast
        return {
            "source": reading.source.value,
            "estimate": settings.estimate.value,
            "from": list(reading.used),
            "until": forecast.end.isoformat() if forecast.end else None,
            "problems": list(reading.problems),
        }


HOUSE_ERROR = SensorEntityDescription(
    key="base_load_forecast_error",
    translation_key="base_load_forecast_error",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
    entity_category=EntityCategory.DIAGNOSTIC,
)


class BaseLoadErrorSensor(CoordinatorEntity[HouseLoadCoordinator], SensorEntity):
    """How far the base-load forecast was from the house over the last 7 days.

    The value is the sum over half-hours of |forecast - actual| (kWh); the
    ``percent`` attribute that as a share of what the house drew.
    """

    _attr_has_entity_name = True

    def __init__(self, coordinator: HouseLoadCoordinator) -> None:
        """Initialise on the entry's main device."""
        super().__init__(coordinator)
        self.entity_description = HOUSE_ERROR
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{HOUSE_ERROR.key}"
        self._attr_device_info = _device(entry_id)

    @property
    def native_value(self) -> float | None:
        """Return the absolute error in kWh (None while nothing can be judged)."""
        reading = self.coordinator.data
        if reading is None or reading.error is None:
            return None
        return reading.error.abs_error_kwh

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        """Give the error as a share, its parts and what the profile is made of."""
        reading = self.coordinator.data
        if reading is None:
            return {"status": "not learnt yet"}
        error = reading.error
        attributes: dict[str, object] = {
            "status": reading.status,
            "percent": error.percent if error else None,
            "actual_kwh": error.actual_kwh if error else None,
            "forecast_kwh": error.forecast_kwh if error else None,
            "bias_kwh": error.bias_kwh if error else None,
            "days": [
                {
                    "day": day.day.isoformat(),
                    "actual_kwh": day.actual_kwh,
                    "forecast_kwh": day.forecast_kwh,
                    "abs_error_kwh": day.abs_error_kwh,
                }
                for day in (error.days if error else ())
            ],
            "learnt_half_hours": reading.profile.learnt,
            "weeks": reading.weeks,
            "statistic": reading.statistic,
            "meters": list(reading.meters),
            "learnt_at": reading.learnt_at.isoformat() if reading.learnt_at else None,
        }
        return attributes


def site_sensors(
    solar: SolarCoordinator, house: HouseLoadCoordinator
) -> list[SensorEntity]:
    """Return the sensors of the site's inputs."""
    return [
        *(SolarForecastSensor(solar, description) for description in SOLAR_SENSORS),
        BaseLoadErrorSensor(house),
    ]
