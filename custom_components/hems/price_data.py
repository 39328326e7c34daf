"""A read-only view of the known prices, with the queries entities need."""

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from .const import PUBLISH_TIME
from .prices import SLOT, PriceSlot


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a local calendar day."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def slots_in_day(day: date, tz: ZoneInfo) -> int:
    """Return how many half-hours a local day has (46, 48 or 50 in the UK)."""
    start, end = local_day_bounds(day, tz)
    return (end - start) // SLOT


def slot_start(when: datetime) -> datetime:
    """Return the start of the half-hour containing ``when``."""
    return when.replace(minute=when.minute - when.minute % 30, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class DayStats:
    """Minimum, maximum and mean price of a set of slots."""

    min: float
    max: float
    mean: float

    @classmethod
    def of(cls, slots: Sequence[PriceSlot]) -> DayStats | None:
        """Return the statistics of ``slots``, or None when there are none."""
        if not slots:
            return None
        values = [slot.value for slot in slots]
        return cls(min=min(values), max=max(values), mean=fmean(values))


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceData:
    """Known half-hourly prices, ascending by start, and the local time zone."""

    slots: tuple[PriceSlot, ...]
    tz: ZoneInfo

    def slot_at(self, when: datetime) -> PriceSlot | None:
        """Return the slot that contains ``when``, if its price is known."""
        index = bisect_right(self.slots, when, key=lambda slot: slot.start) - 1
        if index >= 0 and when < self.slots[index].end:
            return self.slots[index]
        return None

    def next_slot(self, when: datetime) -> PriceSlot | None:
        """Return the slot after the one containing ``when``."""
        return self.slot_at(slot_start(when) + SLOT)

    def between(self, start: datetime, end: datetime) -> tuple[PriceSlot, ...]:
        """Return the known slots starting in [start, end)."""
        return tuple(slot for slot in self.slots if start <= slot.start < end)

    def day(self, day: date) -> tuple[PriceSlot, ...]:
        """Return the known slots of a local calendar day."""
        return self.between(*local_day_bounds(day, self.tz))

    def missing(self, start: datetime, end: datetime) -> tuple[datetime, ...]:
        """Return the starts of the half-hours in [start, end) without a price.

        `start` is rounded down to its half-hour.  The planner treats these as
        unpriced slots; the coordinator fetches from the first of them.
        """
        known = {slot.start for slot in self.between(slot_start(start), end)}
        holes: list[datetime] = []
        moment = slot_start(start)
        while moment < end:
            if moment not in known:
                holes.append(moment)
            moment += SLOT
        return tuple(holes)

    def missing_in_day(self, day: date) -> tuple[datetime, ...]:
        """Return the starts of a local day's half-hours without a price."""
        return self.missing(*local_day_bounds(day, self.tz))

    def day_complete(self, day: date) -> bool:
        """Return whether every half-hour of a local day has a price."""
        return not self.missing_in_day(day)

    def expected_span(self, now: datetime) -> tuple[datetime, datetime]:
        """Return the UTC span whose prices should be known at `now`.

        Today, and tomorrow too from `PUBLISH_TIME` (local) on.
        """
        local = now.astimezone(self.tz)
        start, end = local_day_bounds(local.date(), self.tz)
        if local.time() >= PUBLISH_TIME:
            _, end = local_day_bounds(local.date() + timedelta(days=1), self.tz)
        return start, end

    def day_stats(self, day: date) -> DayStats | None:
        """Return min/max/mean of a local day's known prices."""
        return DayStats.of(self.day(day))

    def upcoming(self, when: datetime) -> tuple[PriceSlot, ...]:
        """Return the current and later slots."""
        return tuple(slot for slot in self.slots if slot.end > when)

    def cheapest_upcoming(self, when: datetime) -> PriceSlot | None:
        """Return the cheapest current or later slot (the earliest on a tie)."""
        upcoming = self.upcoming(when)
        return min(upcoming, key=lambda slot: slot.value) if upcoming else None

    def local_date(self, when: datetime) -> date:
        """Return the local calendar date of ``when``."""
        return when.astimezone(self.tz).date()
