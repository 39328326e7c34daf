"""Entities of flexibility events: a switch per event, two sensors, calendar items.

- One switch per event that has not ended ("Take part: <title> <start>"): on
  means accepted, off declined or not answered yet (attribute ``response``).
  It goes when the event ends or is cancelled; its figures stay on the
  "Flexibility delivered" sensor and in the ``hems_flex_delivered`` event.
- "Flexibility events": how many events lie ahead (pending or accepted),
  each with what it asks and what every load is planned to use in its window.
- "Flexibility delivered": the kWh delivered by the events kept (those
  reported), with the latest event's baseline, metered, delivered, asked and
  reward as attributes.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.calendar import CalendarEvent
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.switch import SwitchEntity
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .flex import FlexEvent
from .flex_manager import FlexManager, FlexRecord, Response
from .plan_coordinator import HemsPlanCoordinator
from .prices import SLOT


def planned_kwh(plan: HemsPlanCoordinator, event: FlexEvent) -> dict[str, float]:
    """Return what each load is planned to use in the event's window (kWh)."""
    schedule = plan.data
    if schedule is None:
        return {}
    hours = SLOT / timedelta(hours=1)
    out: dict[str, float] = {}
    for load_id, load_plan in schedule.loads.items():
        load = plan.loads.get(load_id)
        if load is None or not load_plan.kw:
            continue
        kwh = 0.0
        for start, kw in zip(schedule.slot_starts, load_plan.kw, strict=True):
            overlap = min(start + SLOT, event.end) - max(start, event.start)
            if overlap > timedelta(0):
                kwh += kw * hours * (overlap / SLOT)
        out[load.name] = round(kwh, 3)
    return out


def _describe(record: FlexRecord) -> dict[str, Any]:
    event = record.event
    return {
        "event": event.key,
        "title": event.title,
        "direction": str(event.direction),
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "response": str(record.response),
        "decided_by": record.decided_by,
        "joined": event.joined,
        "asks": [ask.as_dict() for ask in event.asks],
        "reward": event.reward.as_dict() if event.reward else None,
    }


class _FlexEntity(Entity):
    """An entity on the main hems device, updated when the events change."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, flex: FlexManager, plan: HemsPlanCoordinator) -> None:
        """Initialise on the price device of the entry."""
        self.flex = flex
        self.plan = plan
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{flex.entry_id}_prices")}
        )

    async def async_added_to_hass(self) -> None:
        """Follow the events (and the plan: what loads do in the windows)."""
        self.async_on_remove(self.flex.async_add_listener(self.async_write_ha_state))
        self.async_on_remove(self.plan.async_add_listener(self.async_write_ha_state))


class FlexEventsSensor(_FlexEntity, SensorEntity):
    """How many events lie ahead, and each of them."""

    entity_description = SensorEntityDescription(
        key="flex_events", translation_key="flex_events"
    )

    def __init__(self, flex: FlexManager, plan: HemsPlanCoordinator) -> None:
        """Initialise."""
        super().__init__(flex, plan)
        self._attr_unique_id = f"{flex.entry_id}_flex_events"

    def _ahead(self) -> list[FlexRecord]:
        now = dt_util.utcnow()
        return sorted(
            (r for r in self.flex.records.values() if r.live and r.event.end > now),
            key=lambda r: r.event.start,
        )

    @property
    def native_value(self) -> int:
        """Return the number of pending and accepted events not ended."""
        return len(self._ahead())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return each event, with what the loads are planned to do in it."""
        return {
            "events": [
                _describe(r) | {"planned_kwh": planned_kwh(self.plan, r.event)}
                for r in self._ahead()
            ]
        }


class FlexDeliveredSensor(_FlexEntity, SensorEntity):
    """The energy the events delivered, and the latest event's figures."""

    entity_description = SensorEntityDescription(
        key="flex_delivered",
        translation_key="flex_delivered",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
    )

    def __init__(self, flex: FlexManager, plan: HemsPlanCoordinator) -> None:
        """Initialise."""
        super().__init__(flex, plan)
        self._attr_unique_id = f"{flex.entry_id}_flex_delivered"

    @property
    def native_value(self) -> float:
        """Return the delivered kWh of the reported events kept."""
        return self.flex.delivered_total_kwh()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the latest measured event's figures."""
        measured = [r for r in self.flex.records.values() if r.delivery is not None]
        if not measured:
            return {}
        last = max(measured, key=lambda r: r.event.end)
        assert last.delivery is not None  # noqa: S101 - filtered above
        return _describe(last) | last.delivery.as_dict() | {"reported": last.reported}


class FlexEventSwitch(_FlexEntity, SwitchEntity):
    """Take part in one event (on: accepted)."""

    _attr_translation_key = "flex_event"

    def __init__(
        self, flex: FlexManager, plan: HemsPlanCoordinator, record: FlexRecord
    ) -> None:
        """Initialise for one event."""
        super().__init__(flex, plan)
        self.key = record.event.key
        self._record = record
        self._attr_unique_id = f"{flex.entry_id}_flex_{self.key}"
        start = dt_util.as_local(record.event.start)
        self._attr_translation_placeholders = {
            "title": record.event.title or str(record.event.source),
            "start": start.strftime("%d %b %H:%M"),
        }

    @property
    def record(self) -> FlexRecord:
        """Return the event's record in force."""
        self._record = self.flex.records.get(self.key, self._record)
        return self._record

    @property
    def is_on(self) -> bool:
        """Return whether the household takes part."""
        return self.record.response is Response.ACCEPTED

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the event and the loads' plan in its window."""
        return _describe(self.record) | {
            "planned_kwh": planned_kwh(self.plan, self.record.event)
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Accept the event."""
        await self.flex.async_respond(self.key, accept=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Decline the event."""
        await self.flex.async_respond(self.key, accept=False)


def _shown(record: FlexRecord, now: datetime) -> bool:
    return record.response is not Response.CANCELLED and record.event.end > now


def async_manage_switches(
    hass: HomeAssistant,
    flex: FlexManager,
    plan: HemsPlanCoordinator,
    add: Callable[[list[FlexEventSwitch]], None],
) -> Callable[[], None]:
    """Add a switch per event not ended; remove it when the event is over."""
    shown: set[str] = set()

    @callback
    def _sync() -> None:
        now = dt_util.utcnow()
        registry = er.async_get(hass)
        new = [
            FlexEventSwitch(flex, plan, record)
            for key, record in flex.records.items()
            if key not in shown and _shown(record, now)
        ]
        for switch in new:
            shown.add(switch.key)
        if new:
            add(new)
        for key in list(shown):
            record = flex.records.get(key)
            if record is not None and _shown(record, now):
                continue
            shown.discard(key)
            unique_id = f"{flex.entry_id}_flex_{key}"
            if entity_id := registry.async_get_entity_id("switch", DOMAIN, unique_id):
                registry.async_remove(entity_id)

    _sync()
    return flex.async_add_listener(_sync)


def calendar_events(flex: FlexManager) -> list[CalendarEvent]:
    """Return the events for the Plan calendar (declined and cancelled too)."""
    return [
        CalendarEvent(
            start=record.event.start,
            end=record.event.end,
            summary=record.event.title or str(record.event.source),
            description=_calendar_description(record),
            uid=f"flex-{record.event.key}",
        )
        for record in flex.records.values()
    ]


def _calendar_description(record: FlexRecord) -> str:
    event = record.event
    asks = "turn import down" if event.direction == "down" else "turn import up"
    text = f"Flexibility event ({event.source}): {asks}; {record.response}"
    if record.delivery and record.delivery.delivered_kwh is not None:
        text += f"; delivered {record.delivery.delivered_kwh:.2f} kWh"
    return text
