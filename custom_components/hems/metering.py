"""Booking what the loads really did: half-hours delivered, energy and cost (pure).

hems books a run from what the device showed, not from what was asked: an
interruptible load is booked for the time its switch was on (a plug that was
unavailable, or switched off by hand five minutes into a half-hour, is booked
for what it delivered), a started cycle for its measured profile. Time is
booked in pieces that never cross a half-hour boundary, each on the local day
it belongs to.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .control_state import DayTotals, LoadState
from .load_config import CycleConfig, InterruptibleConfig
from .price_data import slot_start
from .prices import SLOT
from .scheduling import instance_at

type PriceAt = Callable[[datetime], float | None]

HOUR = timedelta(hours=1)


def pieces(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Split [start, end) at half-hour boundaries."""
    while start < end:
        boundary = min(slot_start(start) + SLOT, end)
        yield start, boundary
        start = boundary


class DayBook:
    """Adds energy and cost to today's totals, rolling over at local midnight."""

    def __init__(self, totals: DayTotals, tz: ZoneInfo) -> None:
        """Book into ``totals`` (replaced when a new local day begins)."""
        self.totals = totals
        self.tz = tz

    def add(
        self,
        moment: datetime,
        kwh: float,
        price: float | None,
        *,
        diverted: bool = False,
    ) -> None:
        """Book ``kwh`` used at ``moment`` at ``price`` (p/kWh, None if unknown)."""
        day = moment.astimezone(self.tz).date().isoformat()
        if day > self.totals.day:
            self.totals = DayTotals(day=day)
        if day != self.totals.day:
            return  # an earlier day's
        if diverted:
            self.totals.diverted_kwh += kwh
        if price is None:
            return  # a price nobody knows: not today's cost
        self.totals.energy_kwh += kwh
        self.totals.cost += kwh * price


def book_run(
    load: InterruptibleConfig,
    state: LoadState,
    start: datetime,
    end: datetime,
    *,
    tz: ZoneInfo,
    price_at: PriceAt,
    book: DayBook,
    diverted: bool = False,
) -> None:
    """Book an interruptible load as on during [start, end) (``diverted``: by PV)."""
    requirement = state.progress().requirement
    for piece_start, piece_end in pieces(start, end):
        fraction = (piece_end - piece_start) / SLOT
        slot = slot_start(piece_start)
        key = slot.strftime("%Y-%m-%dT%H:%MZ")
        state.ran[key] = state.ran.get(key, 0.0) + fraction
        instance = instance_at(load.window, tz, piece_start, requirement)
        if instance is not None:
            state.runs[instance.key] = state.runs.get(instance.key, 0.0) + fraction
        book.add(
            piece_start,
            load.power_kw * (piece_end - piece_start) / HOUR,
            price_at(slot),
            diverted=diverted,
        )


def book_cycles(
    load: CycleConfig,
    state: LoadState,
    start: datetime,
    end: datetime,
    *,
    price_at: PriceAt,
    book: DayBook,
) -> None:
    """Book the started cycles' measured energy used during [start, end)."""
    for started in state.cycle_starts.values():
        finish = started + SLOT * len(load.profile_kwh)
        for piece_start, piece_end in pieces(max(start, started), min(end, finish)):
            step = int((piece_start - started) / SLOT)
            fraction = (piece_end - piece_start) / SLOT
            slot = slot_start(piece_start)
            key = slot.strftime("%Y-%m-%dT%H:%MZ")
            state.ran[key] = state.ran.get(key, 0.0) + fraction
            book.add(piece_start, load.profile_kwh[step] * fraction, price_at(slot))
