"""Sensors of the plan: per load (next start/stop, energy, cost) and totals."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .actuation import ON
from .load_config import WET_GOODS, BatteryConfig, LoadConfig
from .load_entity import HemsLoadEntity, HemsPlanEntity
from .load_status import load_status
from .plan_attributes import plan_attributes
from .plan_coordinator import HemsPlanCoordinator
from .plan_totals import Planned, planned_from
from .scheduling import PlannedWindow, Schedule, next_start, next_stop

type Value = float | datetime | str | None

# While a load runs, today's totals move on every minute, the plan every five.
TODAY_REFRESH = timedelta(minutes=1)
PLAN_REFRESH = timedelta(minutes=5)
# A power-driven battery is scheduled when its setpoint is at least this.
POWER_ACTIVE_KW = 0.01


@dataclass(frozen=True, kw_only=True)
class LoadSensorDescription(SensorEntityDescription):
    """A per-load sensor: its value from the plan and the load."""

    value_fn: Callable[[Schedule, LoadConfig, datetime], Value]
    applies_fn: Callable[[LoadConfig], bool] = lambda load: True


def _next_window(
    schedule: Schedule, load: LoadConfig, now: datetime
) -> PlannedWindow | None:
    """Return the first planned window of a load that has not ended."""
    windows = schedule.loads[load.id].windows if load.id in schedule.loads else ()
    return next((window for window in windows if window.end > now), None)


def _cycle_start(
    schedule: Schedule, load: LoadConfig, now: datetime
) -> datetime | None:
    window = _next_window(schedule, load, now)
    return window.cycle_start if window else None


def _cycle_cost(schedule: Schedule, load: LoadConfig, now: datetime) -> float | None:
    window = _next_window(schedule, load, now)
    if window is None or window.cycle_cost is None:
        return None
    return round(window.cycle_cost / 100, 4)


def _planned(schedule: Schedule, load: LoadConfig, now: datetime) -> Planned:
    """Return what is planned for a load from now on."""
    return planned_from(schedule, now).loads.get(load.id, Planned())


def _not_battery(load: LoadConfig) -> bool:
    return not isinstance(load, BatteryConfig)


LOAD_SENSORS: tuple[LoadSensorDescription, ...] = (
    LoadSensorDescription(
        key="next_start",
        translation_key="next_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda schedule, load, now: next_start(schedule, load.id, now),
        applies_fn=_not_battery,
    ),
    LoadSensorDescription(
        key="next_stop",
        translation_key="next_stop",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda schedule, load, now: next_stop(schedule, load.id, now),
        applies_fn=_not_battery,
    ),
    LoadSensorDescription(
        key="planned_energy",
        translation_key="planned_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda schedule, load, now: _planned(schedule, load, now).energy_kwh,
        applies_fn=_not_battery,
    ),
    LoadSensorDescription(
        key="planned_cost",
        translation_key="planned_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="GBP",
        suggested_display_precision=2,
        value_fn=lambda schedule, load, now: round(
            _planned(schedule, load, now).cost / 100, 4
        ),
        applies_fn=_not_battery,
    ),
    LoadSensorDescription(
        key="cycle_start",
        translation_key="cycle_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_cycle_start,
        applies_fn=lambda load: load.kind in WET_GOODS,
    ),
    LoadSensorDescription(
        key="cycle_cost",
        translation_key="cycle_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="GBP",
        suggested_display_precision=2,
        value_fn=_cycle_cost,
        applies_fn=lambda load: load.kind in WET_GOODS,
    ),
)


class LoadSensor(HemsLoadEntity, SensorEntity):
    """A value of one load's plan."""

    entity_description: LoadSensorDescription

    @property
    def native_value(self) -> Value:
        """Return the value for now."""
        schedule = self.coordinator.data
        if schedule is None or self.load.id not in schedule.loads:
            return None
        return self.entity_description.value_fn(schedule, self.load, dt_util.utcnow())

    @property
    def extra_state_attributes(self) -> dict[str, object] | None:
        """Explain the plan of the load's windows."""
        if self.entity_description.key not in ("planned_energy", "cycle_start"):
            return None
        schedule = self.coordinator.data
        if schedule is None or self.load.id not in schedule.loads:
            return {
                "status": load_status(
                    self.load, schedule, self.coordinator.tz, dt_util.utcnow()
                )
            }
        return {
            "status": load_status(
                self.load, schedule, self.coordinator.tz, dt_util.utcnow()
            ),
            "windows": [
                {
                    "start": window.start.isoformat(),
                    "end": window.end.isoformat(),
                    "planned_slots": window.planned_slots,
                    "shortfall_slots": window.shortfall_slots,
                    "unpriced_from": window.unpriced_from.isoformat()
                    if window.unpriced_from
                    else None,
                    "deferred": window.deferred,
                    "explanation": window.summary,
                }
                for window in schedule.loads[self.load.id].windows
            ],
        }


@dataclass(frozen=True, kw_only=True)
class TotalSensorDescription(SensorEntityDescription):
    """A sensor of today's totals of all controlled loads."""

    value_fn: Callable[[HemsPlanCoordinator], float | None]


def _average(coordinator: HemsPlanCoordinator) -> float | None:
    today = coordinator.today_now()
    return round(today.cost / today.energy_kwh, 3) if today.energy_kwh else None


def _planned_total(coordinator: HemsPlanCoordinator) -> float | None:
    if coordinator.data is None:
        return None
    total = planned_from(coordinator.data, dt_util.utcnow()).total
    return round(total.cost / 100, 4)


TOTAL_SENSORS: tuple[TotalSensorDescription, ...] = (
    TotalSensorDescription(
        key="cost_today",
        translation_key="cost_today",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement="GBP",
        suggested_display_precision=2,
        value_fn=lambda coordinator: round(coordinator.today_now().cost / 100, 4),
    ),
    TotalSensorDescription(
        key="energy_today",
        translation_key="energy_today",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda coordinator: round(coordinator.today_now().energy_kwh, 4),
    ),
    TotalSensorDescription(
        key="diverted_energy_today",
        translation_key="diverted_energy_today",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda coordinator: round(coordinator.today_now().diverted_kwh, 4),
    ),
    TotalSensorDescription(
        key="average_price_today",
        translation_key="average_price_today",
        native_unit_of_measurement="p/kWh",
        suggested_display_precision=2,
        value_fn=_average,
    ),
    TotalSensorDescription(
        key="planned_cost_total",
        translation_key="planned_cost_total",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="GBP",
        suggested_display_precision=2,
        value_fn=_planned_total,
    ),
)


class TotalSensor(HemsPlanEntity, SensorEntity):
    """Today's totals of the controlled loads, and the plan's cost."""

    entity_description: TotalSensorDescription
    # The plan is for the card; the recorder does not need it.
    _unrecorded_attributes = frozenset(
        {
            "slots",
            "loads",
            "notes",
            "created",
            "planned",
            "base_kw",
            "pv_kw",
            "solar",
            "today",
            "flex_events",
        }
    )

    async def async_added_to_hass(self) -> None:
        """Move the figures on while loads run, between the half-hours."""
        await super().async_added_to_hass()
        every = (
            PLAN_REFRESH
            if self.entity_description.key == "planned_cost_total"
            else TODAY_REFRESH
        )
        self.async_on_remove(
            async_track_time_interval(self.hass, self._async_refresh, every)
        )
        if self.entity_description.key == "planned_cost_total":
            # The flexibility events shown beside the plan (flex_plan.py).
            flex = self.coordinator.config_entry.runtime_data.flex
            self.async_on_remove(flex.async_add_listener(self._async_flex_changed))

    @callback
    def _async_flex_changed(self) -> None:
        if self.coordinator.data is not None:
            self.async_write_ha_state()

    @callback
    def _async_refresh(self, now: datetime) -> None:
        if self.coordinator.data is not None and self.coordinator.running():
            self.async_write_ha_state()

    @property
    def extra_state_attributes(self) -> dict[str, object] | None:
        """Carry the whole plan on the plan's cost sensor."""
        if self.entity_description.key != "planned_cost_total":
            return None
        return plan_attributes(self.coordinator)

    @property
    def native_value(self) -> float | None:
        """Return the value."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def last_reset(self) -> datetime | None:
        """Today's cost starts at local midnight."""
        if self.entity_description.state_class is not SensorStateClass.TOTAL:
            return None
        return dt_util.start_of_local_day()


@dataclass(frozen=True, kw_only=True)
class LoadBinaryDescription(BinarySensorEntityDescription):
    """A per-load binary sensor."""

    is_on_fn: Callable[[HemsPlanCoordinator, LoadConfig, datetime], bool]
    applies_fn: Callable[[LoadConfig], bool] = lambda load: True


def _scheduled_now(
    coordinator: HemsPlanCoordinator, load: LoadConfig, now: datetime
) -> bool:
    schedule = coordinator.data
    index = schedule.index(now) if schedule else None
    if schedule is None or index is None or load.id not in schedule.loads:
        return False
    plan = schedule.loads[load.id]
    if plan.modes is not None:
        return plan.modes[index] != "normal"
    if plan.soc_kwh is not None:  # a power-driven battery: a setpoint other than 0
        return bool(plan.kw) and abs(plan.kw[index]) >= POWER_ACTIVE_KW
    return plan.on[index]


def _deferred(
    coordinator: HemsPlanCoordinator, load: LoadConfig, now: datetime
) -> bool:
    schedule = coordinator.data
    window = _next_window(schedule, load, now) if schedule else None
    return bool(window and window.deferred)


LOAD_BINARY_SENSORS: tuple[LoadBinaryDescription, ...] = (
    LoadBinaryDescription(
        key="scheduled_now",
        translation_key="scheduled_now",
        is_on_fn=_scheduled_now,
    ),
    LoadBinaryDescription(
        key="deferred",
        translation_key="deferred",
        is_on_fn=_deferred,
        applies_fn=lambda load: load.kind in WET_GOODS,
    ),
)


class LoadBinarySensor(HemsLoadEntity, BinarySensorEntity):
    """A yes/no of one load's plan."""

    entity_description: LoadBinaryDescription

    @property
    def is_on(self) -> bool:
        """Return the state now."""
        return self.entity_description.is_on_fn(
            self.coordinator, self.load, dt_util.utcnow()
        )

    @property
    def extra_state_attributes(self) -> dict[str, object] | None:
        """Say what hems last applied and any manual override."""
        if self.entity_description.key != "scheduled_now":
            return None
        state = self.coordinator.state.load(self.load.id)
        return {
            "applied": state.applied,
            "override": state.override.state if state.override else None,
            "override_until": state.override.until.isoformat()
            if state.override
            else None,
            "switched_by": self.coordinator.actuators[self.load.id].description,
            "actuator_error": self.coordinator.actuator_errors.get(self.load.id),
            "running": state.applied == ON,
        }
