"""Baseline, metered and delivered energy of an event, and its reward.

Usage is given per half-hour: the kWh imported in the half-hour starting at
each UTC slot start.  The baseline of a half-hour is the mean of the same
local half-hour over the previous matching days (weekdays for a weekday,
weekend days for a weekend day) that have a reading.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import Any, Final
from zoneinfo import ZoneInfo

from .models import Direction, FlexEvent

HALF_HOUR: Final = timedelta(minutes=30)
_WEEKEND: Final = 5  # Saturday's weekday()
_MAX_LOOKBACK: Final = 120  # days searched for matching ones


def matching_days(day: date, count: int) -> list[date]:
    """Return the ``count`` days before ``day`` of the same kind, newest first."""
    weekend = day.weekday() >= _WEEKEND
    days: list[date] = []
    candidate = day
    for _ in range(_MAX_LOOKBACK):
        if len(days) == count:
            break
        candidate -= timedelta(days=1)
        if (candidate.weekday() >= _WEEKEND) == weekend:
            days.append(candidate)
    return days


def half_hours(start: datetime, end: datetime) -> Iterator[tuple[datetime, float]]:
    """Yield each UTC half-hour touching [start, end) with the share it covers."""
    slot = start.astimezone(UTC).replace(second=0, microsecond=0)
    slot = slot.replace(minute=slot.minute - slot.minute % 30)
    while slot < end:
        overlap = min(end, slot + HALF_HOUR) - max(start, slot)
        yield slot, overlap / HALF_HOUR
        slot += HALF_HOUR


def _same_local_slot(slot: datetime, day: date, tz: ZoneInfo) -> datetime:
    local = slot.astimezone(tz)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)


def slot_baselines(
    event: FlexEvent, usage: Mapping[datetime, float], tz: ZoneInfo
) -> list[float | None]:
    """Return the baseline kWh of each half-hour of the event (None: no data)."""
    result: list[float | None] = []
    for slot, _ in half_hours(event.start, event.end):
        day = slot.astimezone(tz).date()
        readings = [
            usage[moment]
            for past in matching_days(day, event.baseline.days)
            if (moment := _same_local_slot(slot, past, tz).astimezone(UTC)) in usage
        ]
        result.append(fmean(readings) if readings else None)
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """What an event got: energy in kWh, reward in pence and points."""

    baseline_kwh: float | None
    metered_kwh: float | None
    delivered_kwh: float | None
    asked_kwh: float | None
    reward_p: float | None
    points: float | None
    complete: bool  # every half-hour of the window has been metered

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form."""
        return {
            "baseline_kwh": self.baseline_kwh,
            "metered_kwh": self.metered_kwh,
            "delivered_kwh": self.delivered_kwh,
            "asked_kwh": self.asked_kwh,
            "reward_p": self.reward_p,
            "points": self.points,
            "complete": self.complete,
        }


def _asked(event: FlexEvent, baselines: list[float | None]) -> float | None:
    """Return the kWh the targets ask against the baseline (None: no target).

    Per stretch of the window (an `Ask`): a turn-down's baseline there less
    its cap x hours, a turn-up's minimum x hours less the baseline, at least
    0; the window's figure is their sum (what the card shows beside the
    baseline and the target).  A half-hour a stretch covers in part counts
    its baseline for that share.
    """
    slots = [slot for slot, _ in half_hours(event.start, event.end)]
    asked = 0.0
    targeted = False
    for ask in event.asks:
        target = (
            ask.max_import_kw if ask.max_import_kw is not None else ask.min_import_kw
        )
        if target is None:
            continue
        base = 0.0
        for slot, baseline in zip(slots, baselines, strict=True):
            overlap = min(ask.end, slot + HALF_HOUR) - max(ask.start, slot)
            if overlap <= timedelta(0):
                continue
            if baseline is None:
                return None
            base += baseline * (overlap / HALF_HOUR)
        targeted = True
        wanted = target * ask.hours
        asked += max(
            0.0, base - wanted if ask.max_import_kw is not None else wanted - base
        )
    return round(asked, 4) if targeted else None


def delivery(
    event: FlexEvent, usage: Mapping[datetime, float], tz: ZoneInfo
) -> Delivery:
    """Return the event's baseline, metered and delivered kWh and its reward.

    A half-hour the window covers in part counts for that share of its
    reading and baseline.  Delivered is baseline minus metered for a
    turn-down, metered minus baseline for a turn-up, over the half-hours
    metered so far (``complete``: all of them); the reward is paid on
    delivered energy above zero.
    """
    slots = list(half_hours(event.start, event.end))
    baselines = slot_baselines(event, usage, tz)
    complete = all(slot in usage for slot, _ in slots)
    metered_parts = [usage[slot] * share for slot, share in slots if slot in usage]
    metered = round(sum(metered_parts), 4) if metered_parts else None
    known = [b for b in baselines if b is not None]
    baseline = (
        round(sum(b * share for (_, share), b in zip(slots, known, strict=True)), 4)
        if len(known) == len(baselines)
        else None
    )
    asked = _asked(event, baselines)
    # Delivered so far: against the baseline of the half-hours metered.
    pairs = [
        (usage[slot] * share, b * share)
        for (slot, share), b in zip(slots, baselines, strict=True)
        if slot in usage and b is not None
    ]
    if baseline is None or not pairs:
        return Delivery(
            baseline_kwh=baseline,
            metered_kwh=metered,
            delivered_kwh=None,
            asked_kwh=asked,
            reward_p=None,
            points=None,
            complete=complete,
        )
    used = sum(m for m, _ in pairs) - sum(b for _, b in pairs)
    delivered = -used if event.direction is Direction.DOWN else used
    paid = max(0.0, delivered)
    reward = event.reward
    return Delivery(
        baseline_kwh=baseline,
        metered_kwh=metered,
        delivered_kwh=round(delivered, 4),
        asked_kwh=asked,
        reward_p=round(paid * reward.value_p_per_kwh, 2) if reward else None,
        points=(
            round(paid * reward.points_per_kwh, 1)
            if reward and reward.points_per_kwh is not None
            else None
        ),
        complete=complete,
    )
