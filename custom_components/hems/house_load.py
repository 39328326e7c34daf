"""The house's own load, learnt from its meters' history (pure: no HA import).

The base load is everything hems does not control. Per half-hour it is

    house = grid import - grid export + solar - battery in + battery out
            - what hems's own loads used

from the Energy dashboard's meters (cumulative kWh, as the recorder keeps
them: hourly for ever, every five minutes for the last days). The forecast
for a half-hour is the median (or mean) of the same local weekday and time
over the last N weeks; a weekday and time with fewer than two samples is not
learnt, and the plan uses the configured base load there. On clock-change
days (46 or 50 half-hours) a local time that occurs twice gives one sample,
the mean of the two, and a time that does not occur gives none.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import statistics
from zoneinfo import ZoneInfo

from .control_state import LoadState
from .load_config import BatteryConfig, CycleConfig, InterruptibleConfig, LoadConfig

SLOT = timedelta(minutes=30)
HOUR = timedelta(hours=1)
FIVE_MINUTES = timedelta(minutes=5)
SLOT_HOURS = SLOT / HOUR
# A meter whose reading moved less than this (kWh) across a gap in its
# history used nothing in it (an inverter that sleeps at night).
STILL_KWH = 1e-6
# A weekday and half-hour is learnt from at least this many weeks.
MIN_SAMPLES = 2
ERROR_DAYS = 7

type Cell = tuple[int, int]  # (local weekday, local half-hour of the day 0..47)
type Series = Mapping[datetime, float]  # UTC period start -> kWh


class Statistic(StrEnum):
    """How the weeks' samples of one weekday and half-hour are combined."""

    MEDIAN = "median"  # robust: one odd day (a party, a holiday) does not count
    MEAN = "mean"


def slot_key(slot: datetime) -> str:
    """Return the key hems books half-hours under (ISO, UTC, minutes)."""
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_slot_key(key: str) -> datetime:
    """Return the UTC half-hour of a booking key (ValueError if it is none)."""
    moment = datetime.fromisoformat(key)
    if moment.utcoffset() != timedelta(0) or moment.second or moment.minute % 30:
        raise ValueError(f"{key!r} is not a UTC half-hour")
    return moment


def period_energy(
    sums: Sequence[tuple[datetime, float | None]], period: timedelta
) -> dict[datetime, float]:
    """Return each period's energy from a meter's cumulative sums.

    ``sums`` are (period start, sum at the period's end), as the recorder's
    statistics give them, the first one the period before those wanted. A
    period counts only when the sum before it is known; across a gap the
    meter's reading must not have moved (then every period in it used
    nothing), else the gap and the period after it are unknown. A falling sum
    (a meter replaced) is unknown too.
    """
    energy: dict[datetime, float] = {}
    previous: tuple[datetime, float] | None = None
    for start, total in sorted(
        (row for row in sums if row[1] is not None), key=lambda row: row[0]
    ):
        assert total is not None  # noqa: S101 - filtered above
        if previous is not None:
            before, last = previous
            change = total - last
            if start == before + period:
                if change >= -STILL_KWH:
                    energy[start] = max(change, 0.0)
            elif abs(change) <= STILL_KWH:
                moment = before + period
                while moment <= start:
                    energy[moment] = 0.0
                    moment += period
        previous = (start, total)
    return energy


def half_hours(
    hourly: Series, five_minute: Series | None = None
) -> dict[datetime, float]:
    """Return energy per half-hour: six five-minute periods, else half the hour."""
    out: dict[datetime, float] = {}
    for hour, kwh in hourly.items():
        for slot in (hour, hour + SLOT):
            out[slot] = kwh / 2
    by_slot: dict[datetime, list[float]] = {}
    for start, kwh in (five_minute or {}).items():
        slot = start.replace(minute=start.minute // 30 * 30)
        by_slot.setdefault(slot, []).append(kwh)
    for slot, values in by_slot.items():
        if len(values) == SLOT // FIVE_MINUTES:
            out[slot] = sum(values)
    return out


def _sum_meters(meters: Sequence[Series]) -> dict[datetime, float] | None:
    """Return the meters' sum where all of them know the half-hour (None: none)."""
    if not meters:
        return None
    common = set(meters[0]).intersection(*meters[1:])
    return {slot: sum(meter[slot] for meter in meters) for slot in common}


@dataclass(frozen=True, slots=True, kw_only=True)
class Meters:
    """Half-hourly energy of the Energy dashboard's meters (kWh per slot)."""

    grid_import: Sequence[Series] = ()
    grid_export: Sequence[Series] = ()
    solar: Sequence[Series] = ()
    battery_in: Sequence[Series] = ()  # charging
    battery_out: Sequence[Series] = ()  # discharging


def house_energy(meters: Meters, own: Series) -> dict[datetime, float]:
    """Return the base load's kWh per half-hour where every meter is known.

    ``own`` is what hems's loads used (0 where not given). A half-hour that
    comes out below zero (meters read at slightly different moments) is 0.
    """
    plus = [_sum_meters(meters.grid_import), _sum_meters(meters.solar)]
    plus.append(_sum_meters(meters.battery_out))
    minus = [_sum_meters(meters.grid_export), _sum_meters(meters.battery_in)]
    known = [part for part in (*plus, *minus) if part is not None]
    if plus[0] is None or not known:
        return {}
    slots = set(known[0]).intersection(*known[1:])
    house = {}
    for slot in sorted(slots):
        kwh = sum(part[slot] for part in plus if part is not None)
        kwh -= sum(part[slot] for part in minus if part is not None)
        kwh -= own.get(slot, 0.0)
        house[slot] = max(kwh, 0.0)
    return house


def booked_energy(
    loads: Iterable[LoadConfig], states: Mapping[str, LoadState]
) -> dict[datetime, float]:
    """Return what hems's loads used per half-hour, from what was booked.

    An interruptible load used its power for the booked fraction of each
    half-hour; a started cycle its profile's energy. A battery's flows are the
    Energy dashboard's battery meters, not counted here.
    """
    used: dict[datetime, float] = {}
    for load in loads:
        state = states.get(load.id)
        if state is None or isinstance(load, BatteryConfig):
            continue
        if isinstance(load, InterruptibleConfig):
            for key, fraction in state.ran.items():
                slot = parse_slot_key(key)
                kwh = load.power_kw * SLOT_HOURS * fraction
                used[slot] = used.get(slot, 0.0) + kwh
        elif isinstance(load, CycleConfig):
            for started in state.cycle_starts.values():
                for step, kwh in enumerate(load.profile_kwh):
                    slot = started + step * SLOT
                    fraction = min(state.ran.get(slot_key(slot), 0.0), 1.0)
                    if fraction:
                        used[slot] = used.get(slot, 0.0) + kwh * fraction
    return used


def cell_of(slot: datetime, tz: ZoneInfo) -> Cell:
    """Return the local weekday and half-hour of the day of a slot."""
    local = slot.astimezone(tz)
    return local.weekday(), local.hour * 2 + local.minute // 30


def local_day_start(day: date, tz: ZoneInfo) -> datetime:
    """Return the UTC moment a local day begins."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """The learnt base load (kW) per local weekday and half-hour."""

    kw: Mapping[Cell, float] = field(default_factory=dict)
    samples: Mapping[Cell, int] = field(default_factory=dict)
    first_day: date | None = None  # the oldest day a sample came from
    last_day: date | None = None

    def at(self, slot: datetime, tz: ZoneInfo) -> float | None:
        """Return the learnt kW of the half-hour starting at ``slot``, if any."""
        return self.kw.get(cell_of(slot, tz))

    @property
    def learnt(self) -> int:
        """Return how many weekday half-hours (of 336) are learnt."""
        return len(self.kw)


def daily_samples(house: Series, tz: ZoneInfo) -> dict[date, dict[Cell, float]]:
    """Return each local day's kWh per cell (a repeated local time: their mean)."""
    grouped: dict[date, dict[Cell, list[float]]] = {}
    for slot, kwh in house.items():
        day = slot.astimezone(tz).date()
        grouped.setdefault(day, {}).setdefault(cell_of(slot, tz), []).append(kwh)
    return {
        day: {cell: sum(values) / len(values) for cell, values in cells.items()}
        for day, cells in grouped.items()
    }


def learn_profile(
    house: Series,
    *,
    tz: ZoneInfo,
    before: date,
    weeks: int,
    statistic: Statistic,
    samples: Mapping[date, Mapping[Cell, float]] | None = None,
) -> Profile:
    """Return the profile of the ``weeks`` weeks of local days before ``before``."""
    days = samples if samples is not None else daily_samples(house, tz)
    first = before - timedelta(days=7 * weeks)
    by_cell: dict[Cell, list[float]] = {}
    used = [day for day in days if first <= day < before]
    for day in used:
        for cell, kwh in days[day].items():
            by_cell.setdefault(cell, []).append(kwh / SLOT_HOURS)
    combine = statistics.median if statistic is Statistic.MEDIAN else statistics.fmean
    needed = min(MIN_SAMPLES, weeks)
    return Profile(
        kw={
            cell: round(combine(values), 4)
            for cell, values in sorted(by_cell.items())
            if len(values) >= needed
        },
        samples={cell: len(values) for cell, values in sorted(by_cell.items())},
        first_day=min(used, default=None),
        last_day=max(used, default=None),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DayError:
    """How far one day's forecast was from what the house drew."""

    day: date
    actual_kwh: float
    forecast_kwh: float
    abs_error_kwh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastError:
    """The base-load forecast's error over recent days.

    Each day is forecast from the weeks before it, as hems would have planned it.
    """

    days: tuple[DayError, ...]

    @property
    def actual_kwh(self) -> float:
        """Return what the house drew."""
        return round(sum(day.actual_kwh for day in self.days), 3)

    @property
    def forecast_kwh(self) -> float:
        """Return what was forecast for the same half-hours."""
        return round(sum(day.forecast_kwh for day in self.days), 3)

    @property
    def abs_error_kwh(self) -> float:
        """Return the sum over half-hours of |forecast - actual|."""
        return round(sum(day.abs_error_kwh for day in self.days), 3)

    @property
    def percent(self) -> float | None:
        """Return the absolute error as a share of the actual energy."""
        actual = sum(day.actual_kwh for day in self.days)
        if actual <= 0:
            return None
        return round(sum(day.abs_error_kwh for day in self.days) / actual * 100, 1)

    @property
    def bias_kwh(self) -> float:
        """Return forecast - actual (positive: the forecast was too high)."""
        return round(self.forecast_kwh - self.actual_kwh, 3)


def forecast_error(
    house: Series,
    *,
    tz: ZoneInfo,
    today: date,
    weeks: int,
    statistic: Statistic,
    fallback_kw: float,
    days: int = ERROR_DAYS,
) -> ForecastError | None:
    """Return the error of the last ``days`` local days' forecasts, if any is known.

    Each day is forecast as hems would have done that morning: the profile of
    the weeks before it, the fallback where a half-hour is not learnt.
    """
    samples = daily_samples(house, tz)
    by_day: dict[date, list[tuple[datetime, float]]] = {}
    for slot, kwh in house.items():
        by_day.setdefault(slot.astimezone(tz).date(), []).append((slot, kwh))
    results = []
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        if not by_day.get(day):
            continue
        profile = learn_profile(
            house,
            tz=tz,
            before=day,
            weeks=weeks,
            statistic=statistic,
            samples=samples,
        )
        actual = forecast = error = 0.0
        for slot, kwh in by_day[day]:
            kw = profile.at(slot, tz)
            guess = (fallback_kw if kw is None else kw) * SLOT_HOURS
            actual += kwh
            forecast += guess
            error += abs(guess - kwh)
        results.append(
            DayError(
                day=day,
                actual_kwh=round(actual, 3),
                forecast_kwh=round(forecast, 3),
                abs_error_kwh=round(error, 3),
            )
        )
    return ForecastError(days=tuple(results)) if results else None
