"""A calendar with one event per planned run, for HA's calendar card."""

from datetime import datetime

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import HemsConfigEntry
from .load_config import BatteryConfig
from .load_entity import HemsPlanEntity
from .scheduling import load_runs

PARALLEL_UPDATES = 0

PLAN = CalendarEntityDescription(key="plan", translation_key="plan")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HemsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the plan calendar."""
    async_add_entities([PlanCalendar(entry.runtime_data.plan, PLAN)])


class PlanCalendar(HemsPlanEntity, CalendarEntity):
    """Planned runs of every load."""

    entity_description: CalendarEntityDescription

    def _events(self) -> list[CalendarEvent]:
        schedule = self.coordinator.data
        if schedule is None:
            return []
        events = []
        for load in self.coordinator.loads.values():
            if isinstance(load, BatteryConfig):
                continue
            cost = schedule.loads[load.id].cost if load.id in schedule.loads else 0.0
            for start, end in load_runs(schedule, load.id):
                events.append(
                    CalendarEvent(
                        start=start,
                        end=end,
                        summary=load.name,
                        description=f"Planned by hems; {cost / 100:.2f} GBP "
                        "for this load over the known prices",
                        uid=f"{load.id}-{start.isoformat()}",
                    )
                )
        return sorted(
            events, key=lambda event: (event.start_datetime_local, event.summary)
        )

    @property
    def event(self) -> CalendarEvent | None:
        """Return the current or next planned run."""
        now = dt_util.utcnow()
        return next(
            (event for event in self._events() if event.end_datetime_local > now), None
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return planned runs overlapping the range."""
        return [
            event
            for event in self._events()
            if event.end_datetime_local > start_date
            and event.start_datetime_local < end_date
        ]
