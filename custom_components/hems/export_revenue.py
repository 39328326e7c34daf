"""The export revenue sensor: metered grid export times its half-hour's price.

Each increase of the Energy dashboard's grid export meter is priced at the
export price of the half-hour it was read in and added to a running total
(GBP), which the Energy dashboard can use as the export compensation entity.
"""

from dataclasses import dataclass
import math
from typing import Any, Self

from homeassistant.components.energy.data import async_get_manager
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EVENT_COMPONENT_LOADED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    State,
    callback,
    valid_entity_id,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.setup import EventComponentLoaded

from .const import DOMAIN
from .coordinator import HemsPriceCoordinator
from .site_inputs import async_energy_preferences, meter_ids

CURRENCY = "GBP"  # the prices are p/kWh

# kWh per unit of the meter's state.
KWH_PER_UNIT: dict[str, float] = {
    UnitOfEnergy.WATT_HOUR: 0.001,
    UnitOfEnergy.KILO_WATT_HOUR: 1.0,
    UnitOfEnergy.MEGA_WATT_HOUR: 1000.0,
}

EXPORT_REVENUE = SensorEntityDescription(
    key="export_revenue",
    translation_key="export_revenue",
    device_class=SensorDeviceClass.MONETARY,
    state_class=SensorStateClass.TOTAL,
    native_unit_of_measurement=CURRENCY,
    suggested_display_precision=2,
)


def meter_kwh(state: State) -> float | None:
    """Return a meter reading in kWh (None: unknown, unavailable, NaN, no unit)."""
    if state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    factor = KWH_PER_UNIT.get(str(state.attributes.get("unit_of_measurement")))
    try:
        value = float(state.state)
    except ValueError:
        return None
    if factor is None or not math.isfinite(value):
        return None
    return value * factor


@callback
def _is_energy(data: EventComponentLoaded) -> bool:
    return data["component"] == "energy"


@dataclass(slots=True)
class RevenueTotals:
    """The running total and the meter reading it has counted up to."""

    revenue: float = 0.0  # GBP
    export_kwh: float = 0.0  # priced and counted
    unpriced_kwh: float = 0.0  # exported while no price was known
    meter: str | None = None
    last_kwh: float | None = None  # the last valid reading of ``meter``

    def count(self, kwh: float, price: float | None) -> None:
        """Count a new reading (kWh) exported at ``price`` (p/kWh, None: unknown)."""
        last, self.last_kwh = self.last_kwh, kwh
        if last is None:
            return
        # A lower reading is a reset to 0: what was exported since is the reading.
        exported = kwh - last if kwh >= last else kwh
        if exported <= 0:
            return
        if price is None:
            self.unpriced_kwh += exported
            return
        self.export_kwh += exported
        self.revenue += exported * price / 100


@dataclass(slots=True)
class RevenueStoredData(ExtraStoredData):
    """What survives a restart."""

    totals: RevenueTotals

    def as_dict(self) -> dict[str, Any]:
        """Return the totals as a JSON-able dict."""
        totals = self.totals
        return {
            "revenue": totals.revenue,
            "export_kwh": totals.export_kwh,
            "unpriced_kwh": totals.unpriced_kwh,
            "meter": totals.meter,
            "last_kwh": totals.last_kwh,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self | None:
        """Return the stored totals (None: not ours or damaged)."""
        try:
            last = data.get("last_kwh")
            meter = data.get("meter")
            totals = RevenueTotals(
                revenue=float(data["revenue"]),
                export_kwh=float(data["export_kwh"]),
                unpriced_kwh=float(data["unpriced_kwh"]),
                meter=meter if isinstance(meter, str) else None,
                last_kwh=None if last is None else float(last),
            )
        except KeyError, TypeError, ValueError:
            return None
        return cls(totals)


class ExportRevenueSensor(RestoreEntity, SensorEntity):
    """The money the metered grid export earned, a running total in GBP."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, entry_id: str, export_prices: HemsPriceCoordinator | None
    ) -> None:
        """Initialise on the entry's main device."""
        self.entity_description = EXPORT_REVENUE
        self._attr_unique_id = f"{entry_id}_{EXPORT_REVENUE.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry_id}_prices")}
        )
        self._export_prices = export_prices
        self._totals = RevenueTotals()
        self._reason: str | None = None
        self._meter: str | None = None
        self._unfollow: CALLBACK_TYPE | None = None
        self._removed = False

    async def async_added_to_hass(self) -> None:
        """Restore the totals; follow the meter, again when the Energy prefs change."""
        await super().async_added_to_hass()
        if (stored := await self.async_get_last_extra_data()) is not None and (
            restored := RevenueStoredData.from_dict(stored.as_dict())
        ) is not None:
            self._totals = restored.totals
        await self._async_follow()
        if "energy" in self.hass.config.components:
            await self._async_listen_prefs()
        else:
            self.async_on_remove(
                self.hass.bus.async_listen(
                    EVENT_COMPONENT_LOADED,
                    self._async_energy_loaded,
                    event_filter=_is_energy,
                )
            )
        self.async_on_remove(self._async_removed)

    async def _async_energy_loaded(self, event: Event[EventComponentLoaded]) -> None:
        del event
        await self._async_listen_prefs()
        await self._async_prefs_changed()

    async def _async_listen_prefs(self) -> None:
        # The manager cannot be unsubscribed from: a removed sensor ignores it.
        manager = await async_get_manager(self.hass)
        manager.async_listen_updates(self._async_prefs_changed)

    @callback
    def _async_removed(self) -> None:
        self._removed = True
        self._stop_following()

    @callback
    def _stop_following(self) -> None:
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None

    async def _async_prefs_changed(self) -> None:
        if self._removed:
            return
        await self._async_follow()
        self.async_write_ha_state()

    async def _async_follow(self) -> None:
        """Follow the Energy dashboard's (first) grid export meter."""
        self._stop_following()
        meters = meter_ids(await async_energy_preferences(self.hass)).grid_export
        meter = next((found for found in meters if valid_entity_id(found)), None)
        if self._export_prices is None:
            self._reason = "no export prices"
        elif meter is None:
            self._reason = (
                "the grid export meter is not an entity"
                if meters
                else "no grid export meter in the Energy dashboard"
            )
        else:
            self._reason = None
        self._meter = meter
        if meter is None:
            return
        if meter != self._totals.meter:
            self._totals.meter = meter
            self._totals.last_kwh = None
        if (state := self.hass.states.get(meter)) is not None:
            self._count(state)
        self._unfollow = async_track_state_change_event(
            self.hass, meter, self._async_meter_changed
        )

    @callback
    def _async_meter_changed(self, event: Event[EventStateChangedData]) -> None:
        if (state := event.data["new_state"]) is not None and self._count(state):
            self.async_write_ha_state()

    def _count(self, state: State) -> bool:
        """Count a meter reading; return whether it was one (not unknown etc.)."""
        if (kwh := meter_kwh(state)) is None:
            return False
        price = None
        export = self._export_prices
        if export is not None and export.data is not None:
            slot = export.data.slot_at(state.last_updated)
            price = None if slot is None else slot.value
        self._totals.count(kwh, price)
        return True

    @property
    def native_value(self) -> float:
        """Return the money earned so far (GBP)."""
        return round(self._totals.revenue, 4)

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        """Say what was counted, what could not be priced and what is followed."""
        totals = self._totals
        attributes: dict[str, object] = {
            "export_kwh": round(totals.export_kwh, 4),
            "unpriced_kwh": round(totals.unpriced_kwh, 4),
            "meter": self._meter,
        }
        if self._reason is not None:
            attributes["reason"] = self._reason
        return attributes

    @property
    def extra_restore_state_data(self) -> RevenueStoredData:
        """Return the totals to restore after a restart."""
        return RevenueStoredData(self._totals)
