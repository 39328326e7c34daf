"""A calendar with one event per run: those that ran today and those planned."""

from datetime import datetime, timedelta

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import HemsConfigEntry
from .flex_entities import calendar_events
from .flex_manager import FlexManager
from .load_config import BatteryConfig
from .load_entity import HemsPlanEntity
from .price_data import slot_start
from .prices import SLOT
from .scheduling import RUN_TOLERANCE, load_runs

PARALLEL_UPDATES = 0

PLAN = CalendarEntityDescription(key="plan", translation_key="plan")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HemsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the plan calendar."""
    calendar = PlanCalendar(entry.runtime_data.plan, PLAN)
    calendar.flex = entry.runtime_data.flex
    async_add_entities([calendar])


class PlanCalendar(HemsPlanEntity, CalendarEntity):
    """Planned runs of every load."""

    entity_description: CalendarEntityDescription
    # Flexibility events are shown too (flex_entities.py).
    flex: FlexManager | None = None

    def _events(self) -> list[CalendarEvent]:
        """Return the runs that happened (as booked) and those planned from now."""
        schedule = self.coordinator.data
        current = slot_start(dt_util.utcnow())
        events = []
        for load in self.coordinator.loads.values():
            if isinstance(load, BatteryConfig):
                continue
            ran = self.coordinator.state.load(load.id).ran
            past = sorted(
                start
                for key, fraction in ran.items()
                if fraction > RUN_TOLERANCE
                and (start := datetime.fromisoformat(key)) < current
            )
            for first, end in _merge(past):
                events.append(
                    CalendarEvent(
                        start=first,
                        end=end,
                        summary=load.name,
                        description="Ran (as its switch showed)",
                        uid=f"{load.id}-ran-{first.isoformat()}",
                    )
                )
            if schedule is None or load.id not in schedule.loads:
                continue
            plan = schedule.loads[load.id]
            hours = SLOT / timedelta(hours=1)
            for run_start, end in load_runs(schedule, load.id):
                if end <= current:
                    continue
                first = max(run_start, current)
                kwh = cost = 0.0
                for start, kw, price in zip(
                    schedule.slot_starts, plan.kw, schedule.prices, strict=True
                ):
                    if first <= start < end:
                        kwh += kw * hours
                        cost += kw * hours * (price or 0.0)
                events.append(
                    CalendarEvent(
                        start=first,
                        end=end,
                        summary=load.name,
                        description=f"Planned by hems: {kwh:.2f} kWh, "
                        f"{cost / 100:.2f} GBP",
                        uid=f"{load.id}-{first.isoformat()}",
                    )
                )
        if self.flex is not None:
            events.extend(calendar_events(self.flex))
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


def _merge(starts: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Join consecutive half-hours into runs."""
    runs: list[tuple[datetime, datetime]] = []
    for start in starts:
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], start + SLOT)
        else:
            runs.append((start, start + SLOT))
    return runs
