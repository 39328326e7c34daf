"""Recorded price histories and their replay onto today's dates (offline demo).

`load_price_history` reads a CSV (optionally gzip-compressed) with the header
`valid_from_utc,valid_to_utc,value_inc_vat`, one half-hour slot a row in p/kWh
inc VAT, sorted ascending.  `ReplaySource` then answers "which prices would be
known at `now`" by mapping each wanted local date onto the recorded day with
the same month and day.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
import contextlib
import csv
from datetime import UTC, date, datetime, time, timedelta
import gzip
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO
import zlib

from ._checks import MAX_PRICE, MIN_PRICE, SLOT, slot_problem, to_price, to_utc
from .exceptions import InvalidPriceRecord, PriceFileError
from .models import PriceSlot

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

HISTORY_HEADER: Final = ("valid_from_utc", "valid_to_utc", "value_inc_vat")
_FIELDS: Final = len(HISTORY_HEADER)
_DAYS_IN_LEAP_YEAR: Final = 366
_LEAP_YEAR: Final = 2000
_MINUTES_PER_HOUR: Final = 60

type _WallTime = tuple[int, int, int]
"""Local (hour, minute, fold): fold 1 marks the repeated hour of a DST change."""


@contextlib.contextmanager
def _open_text(path: Path) -> Iterator[TextIO]:
    if path.suffix.lower() == ".gz":
        with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
            yield handle
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield handle


def load_price_history(path: Path) -> tuple[PriceSlot, ...]:
    """Read a recorded price history (CSV, or gzip CSV when it ends in `.gz`).

    Raises `PriceFileError` naming the file (and the line, where there is one)
    when the file cannot be read, the header is wrong, a row is unusable, the
    rows are not sorted ascending without overlaps, or there are no rows.
    """
    path = Path(path)
    try:
        with _open_text(path) as handle:
            return _read_history(handle, path)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as err:
        raise PriceFileError(f"{path}: cannot read the file: {err}") from err


def _read_history(handle: TextIO, path: Path) -> tuple[PriceSlot, ...]:
    reader = csv.reader(handle)
    slots: list[PriceSlot] = []
    try:
        header = next(reader, None)
        if header is None:
            raise PriceFileError(
                f"{path}: empty file, expected the header {','.join(HISTORY_HEADER)}"
            )
        if tuple(name.strip() for name in header) != HISTORY_HEADER:
            raise PriceFileError(
                f"{path}: line 1: header {','.join(header)!r}, expected "
                f"{','.join(HISTORY_HEADER)!r}"
            )
        previous_end: datetime | None = None
        for row in reader:
            if not row:
                continue
            slot = _history_row(row, path, reader.line_num)
            if previous_end is not None and slot.start < previous_end:
                raise PriceFileError(
                    f"{path}: line {reader.line_num}: slot {slot.start.isoformat()} "
                    f"starts before the previous row ends ({previous_end.isoformat()});"
                    " rows must be sorted ascending without overlaps"
                )
            previous_end = slot.end
            slots.append(slot)
    except csv.Error as err:
        raise PriceFileError(f"{path}: line {reader.line_num}: {err}") from err
    if not slots:
        raise PriceFileError(f"{path}: no price rows after the header")
    return tuple(slots)


def _history_row(row: list[str], path: Path, line: int) -> PriceSlot:
    if len(row) != _FIELDS:
        raise PriceFileError(
            f"{path}: line {line}: expected {_FIELDS} fields, got {len(row)}: "
            f"{','.join(row)[:80]!r}"
        )
    try:
        return _history_slot(*row)
    except InvalidPriceRecord as err:
        raise PriceFileError(f"{path}: line {line}: {err}") from err


def _history_slot(start_text: str, end_text: str, value_text: str) -> PriceSlot:
    # Fast path for well-formed rows; the checks' own messages for the rest.
    try:
        start = datetime.fromisoformat(start_text)
        end = datetime.fromisoformat(end_text)
    except ValueError:
        start = to_utc(start_text, "valid_from_utc")
        end = to_utc(end_text, "valid_to_utc")
    if start.tzinfo is not UTC:
        start = to_utc(start, "valid_from_utc")
    if end.tzinfo is not UTC:
        end = to_utc(end, "valid_to_utc")
    if problem := slot_problem(start, end):
        raise InvalidPriceRecord(problem)
    try:
        value = float(value_text)
    except ValueError:
        raise InvalidPriceRecord(
            f"field 'value_inc_vat': {value_text[:40]!r} is not a number"
        ) from None
    if not MIN_PRICE <= value <= MAX_PRICE:
        value = to_price(value, "value_inc_vat")
    return PriceSlot(start=start, end=end, value=value)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _slots_in_local_day(day: date, tz: ZoneInfo) -> int:
    length = _local_midnight(day + timedelta(days=1), tz) - _local_midnight(day, tz)
    return length // SLOT


def _day_of_year(day: date) -> int:
    return date(_LEAP_YEAR, day.month, day.day).timetuple().tm_yday


def _minutes(wall: _WallTime) -> int:
    return wall[0] * _MINUTES_PER_HOUR + wall[1]


class ReplaySource:
    """Replays a recorded price history onto real dates for offline demos.

    For each local date D that would be known at `now` (today, and tomorrow
    once the local time reaches `publish_time`) the recorded day H with D's
    month and day is used: the latest year with a complete local day in the
    history (Feb 29 falls back to Feb 28; if no year has the date, the complete
    day nearest in the calendar, latest first).  D's local half-hours (46, 48 or
    50 depending on DST) are priced at H's price for the same local wall-clock
    time; a wall time that H lacks (DST) takes the nearest one H has.
    """

    def __init__(
        self,
        history: Sequence[PriceSlot],
        *,
        tz: ZoneInfo,
        publish_time: time = time(16, 0),
    ) -> None:
        """Index `history` (half-hour slots) by local day in `tz`."""
        if publish_time.tzinfo is not None:
            raise ValueError(
                f"publish_time must be a local wall-clock time without tzinfo, "
                f"got {publish_time!r}"
            )
        if not history:
            raise ValueError("the price history is empty")
        self._tz = tz
        self._publish_time = publish_time
        days: dict[date, dict[_WallTime, float]] = {}
        first = history[0].start
        last = history[0].end
        for slot in history:
            if problem := slot_problem(slot.start, slot.end):
                raise ValueError(f"the price history holds a bad slot: {problem}")
            first = min(first, slot.start)
            last = max(last, slot.end)
            local = slot.start.astimezone(tz)
            wall = (local.hour, local.minute, local.fold)
            days.setdefault(local.date(), {})[wall] = slot.value
        self._bounds = (first, last)
        self._days = {
            day: walls
            for day, walls in days.items()
            if len(walls) == _slots_in_local_day(day, tz)
        }
        if not self._days:
            raise ValueError(f"the price history has no complete local day in {tz}")
        self._latest: dict[tuple[int, int], date] = {}
        for day in sorted(self._days):
            self._latest[day.month, day.day] = day

    def history_bounds(self) -> tuple[datetime, datetime]:
        """Return the start of the first and the end of the last recorded slot."""
        return self._bounds

    def source_date(self, day: date) -> date:
        """Return the recorded local date whose prices are replayed on `day`."""
        found = self._latest.get((day.month, day.day))
        if found is None and (day.month, day.day) == (2, 29):
            found = self._latest.get((2, 28))
        if found is not None:
            return found
        target = _day_of_year(day)

        def distance(candidate: date) -> tuple[int, int]:
            apart = abs(_day_of_year(candidate) - target)
            return min(apart, _DAYS_IN_LEAP_YEAR - apart), -candidate.toordinal()

        return min(self._days, key=distance)

    def slots_known_at(self, now: datetime) -> tuple[PriceSlot, ...]:
        """Return the replayed slots published by `now` (aware), ascending, in UTC."""
        if now.utcoffset() is None:
            raise ValueError(f"now must be an aware datetime, got {now!r}")
        local_now = now.astimezone(self._tz)
        today = local_now.date()
        days = [today]
        if local_now.time() >= self._publish_time:
            days.append(today + timedelta(days=1))
        return tuple(slot for day in days for slot in self._replay_day(day))

    def _replay_day(self, day: date) -> list[PriceSlot]:
        start = _local_midnight(day, self._tz)
        end = _local_midnight(day + timedelta(days=1), self._tz)
        if start.minute % 30 or start.second:
            raise ValueError(
                f"time zone {self._tz} is not a whole number of half-hours from UTC "
                f"on {day}"
            )
        prices = self._days[self.source_date(day)]
        slots: list[PriceSlot] = []
        moment = start
        while moment < end:
            local = moment.astimezone(self._tz)
            wall = (local.hour, local.minute, local.fold)
            value = prices.get(wall)
            if value is None:
                nearest = min(
                    prices,
                    key=lambda have: (abs(_minutes(have) - _minutes(wall)), have),
                )
                value = prices[nearest]
            slots.append(PriceSlot(start=moment, end=moment + SLOT, value=value))
            moment += SLOT
        return slots
