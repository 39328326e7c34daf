"""Solar forecasts as energy per UTC half-hour (pure: no Home Assistant import).

Providers give energy per period (the Energy dashboard's ``wh_hours``,
Forecast.Solar's ``wh_period``), power at instants (Forecast.Solar's
``watts``) or average power per period (Solcast's ``detailedForecast``).
Periods may be 15 minutes, half-hours or hours, and a day's first and last
points may sit at sunrise and sunset, off the grid. Each period's energy is
spread over the half-hours it overlaps (following the power curve where there
is one, else evenly), so the kWh of each half-hour is the forecast's energy in
it and a day's total is kept. Several forecasts (planes, sites, days) add up.
Nothing is made up: where no forecast says anything there is no entry.
"""

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import itertools
import math
from typing import Any
from zoneinfo import ZoneInfo

SLOT = timedelta(minutes=30)
HOUR = timedelta(hours=1)
# Energies below this (kWh) are rounding noise.
EPSILON_KWH = 1e-9


class Estimate(StrEnum):
    """Which estimate of a probabilistic forecast to plan with."""

    P50 = "p50"  # the median: as likely above as below
    P10 = "p10"  # the pessimistic one: 9 days in 10 give more
    BLEND = "blend"  # halfway between the two


class Keying(StrEnum):
    """Which end of its period a forecast's timestamp marks."""

    START = "start"  # Solcast, Open-Meteo, Home Assistant's own documentation
    END = "end"  # the Forecast.Solar API (its watt_hours_period)


@dataclass(frozen=True, slots=True)
class SolarForecast:
    """Energy (kWh) per UTC half-hour start, over the span the forecast covers.

    ``start``/``end`` bound what the forecast speaks about (providers leave out
    the zeros of the night): a half-hour inside without an entry is 0 kWh, one
    outside is unknown.
    """

    kwh: Mapping[datetime, float] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    @property
    def empty(self) -> bool:
        """Return whether the forecast covers nothing."""
        return self.start is None or self.end is None

    def kw_at(self, slot: datetime) -> float:
        """Return the average power (kW) in the half-hour starting at ``slot``."""
        return self.kwh.get(slot, 0.0) / (SLOT / HOUR)

    def kw(self, slots: Iterable[datetime]) -> tuple[float, ...]:
        """Return the average kW of each half-hour (0 where nothing is known)."""
        return tuple(round(self.kw_at(slot), 4) for slot in slots)

    def covers(self, moment: datetime) -> bool:
        """Return whether the forecast speaks about ``moment``."""
        return (
            self.start is not None
            and self.end is not None
            and self.start <= moment < self.end
        )

    def total_kwh(self, start: datetime, end: datetime) -> float | None:
        """Return the energy of [start, end), None if the forecast misses it all."""
        if self.start is None or self.end is None:
            return None
        if self.end <= start or end <= self.start:
            return None
        return sum(kwh for slot, kwh in self.kwh.items() if start <= slot < end)

    def day_kwh(self, day: date, tz: ZoneInfo) -> float | None:
        """Return the energy of a local day, None if the forecast misses it."""
        start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
        return self.total_kwh(start, end.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Parsed:
    """A forecast read from a provider's data, and what could not be used."""

    forecast: SolarForecast
    problems: tuple[str, ...] = ()


def slot_of(moment: datetime) -> datetime:
    """Return the start of the UTC half-hour containing ``moment``."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute // 30 * 30, second=0, microsecond=0)


def parse_time(value: Any) -> datetime | None:
    """Return an aware UTC datetime from a datetime or an ISO string, else None."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return None
    return value.astimezone(UTC)


def parse_number(value: Any) -> float | None:
    """Return a finite, non-negative number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def parse_series(raw: Any, what: str) -> tuple[dict[datetime, float], list[str]]:
    """Read ``{time: number}``; every point that cannot be used is named."""
    if not isinstance(raw, Mapping):
        return {}, [f"{what} is not a mapping of times to numbers"]
    points: dict[datetime, float] = {}
    problems: list[str] = []
    for key, value in raw.items():
        moment = parse_time(key)
        number = parse_number(value)
        if moment is None:
            problems.append(f"{what}: {key!r} is not a time with a time zone")
        elif number is None:
            problems.append(f"{what} at {key}: {value!r} is not a number >= 0")
        else:
            points[moment] = points.get(moment, 0.0) + number
    return points, problems


def typical_step(times: Sequence[datetime]) -> timedelta | None:
    """Return the most common gap between sorted times (the shortest on a tie)."""
    gaps = Counter(b - a for a, b in itertools.pairwise(times) if b > a)
    if not gaps:
        return None
    top = max(gaps.values())
    return min(gap for gap, count in gaps.items() if count == top)


@dataclass(frozen=True, slots=True)
class PowerCurve:
    """Power samples (any unit) joined by straight lines; 0 outside them."""

    times: tuple[datetime, ...]
    values: tuple[float, ...]

    @classmethod
    def of(cls, samples: Mapping[datetime, float]) -> PowerCurve:
        """Return the curve through ``samples``."""
        ordered = sorted(samples.items())
        return cls(tuple(t for t, _ in ordered), tuple(v for _, v in ordered))

    def _at(self, index: int, moment: datetime) -> float:
        """Return the value at ``moment`` on the segment from sample ``index``."""
        t0, t1 = self.times[index], self.times[index + 1]
        v0, v1 = self.values[index], self.values[index + 1]
        return v0 + (v1 - v0) * ((moment - t0) / (t1 - t0))

    def integral(self, start: datetime, end: datetime) -> float:
        """Return the integral over [start, end) in unit x hours."""
        times = self.times
        if len(times) < 2 or end <= times[0] or start >= times[-1]:  # noqa: PLR2004
            return 0.0
        total = 0.0
        first = max(bisect_right(times, start) - 1, 0)
        last = min(bisect_left(times, end), len(times) - 1)
        for index in range(first, last):
            a = max(start, times[index])
            b = min(end, times[index + 1])
            if b <= a:
                continue
            total += (self._at(index, a) + self._at(index, b)) / 2 * ((b - a) / HOUR)
        return total


def _pieces(
    start: datetime, end: datetime
) -> list[tuple[datetime, datetime, datetime]]:
    """Split [start, end) at UTC half-hours: (half-hour, piece start, piece end)."""
    pieces = []
    while start < end:
        slot = slot_of(start)
        boundary = min(slot + SLOT, end)
        pieces.append((slot, start, boundary))
        start = boundary
    return pieces


def _spread(
    out: dict[datetime, float],
    kwh: float,
    start: datetime,
    end: datetime,
    curve: PowerCurve | None,
) -> None:
    """Add ``kwh`` over [start, end): along the curve where it has area, else evenly."""
    pieces = _pieces(start, end)
    if not pieces:
        slot = slot_of(start)
        out[slot] = out.get(slot, 0.0) + kwh
        return
    weights = [curve.integral(a, b) for _, a, b in pieces] if curve else []
    total = sum(weights)
    if not total > 0:
        weights = [(b - a) / SLOT for _, a, b in pieces]
        total = sum(weights)
    for (slot, _, _), weight in zip(pieces, weights, strict=True):
        out[slot] = out.get(slot, 0.0) + kwh * weight / total


def _periods(
    times: Sequence[datetime], keyed: Keying, step: timedelta
) -> list[tuple[datetime, datetime]]:
    """Return each point's period, no longer than ``step`` nor past its neighbour.

    A gap longer than the step (the night, where providers leave out zeros) is
    not part of any period.
    """
    periods = []
    for index, moment in enumerate(times):
        if keyed is Keying.START:
            end = moment + step
            if index + 1 < len(times):
                end = min(end, times[index + 1])
            periods.append((moment, end))
        else:
            start = moment - step
            if index > 0:
                start = max(start, times[index - 1])
            periods.append((start, moment))
    return periods


def energy_to_half_hours(
    wh: Mapping[datetime, float],
    keyed: Keying,
    *,
    power: Mapping[datetime, float] | None = None,
    step: timedelta | None = None,
) -> SolarForecast:
    """Return the half-hourly kWh of Wh per period (each point's own period).

    ``power`` (samples of the same forecast) shapes the energy inside periods
    longer than a half-hour; the energy of every period is kept whatever the
    shape.
    """
    times = sorted(wh)
    if not times:
        return SolarForecast()
    step = step or typical_step(times) or SLOT
    curve = PowerCurve.of(power) if power else None
    out: dict[datetime, float] = {}
    periods = _periods(times, keyed, step)
    for moment, (start, end) in zip(times, periods, strict=True):
        if wh[moment] > 0:
            _spread(out, wh[moment] / 1000, start, end, curve)
    return SolarForecast(
        kwh={slot: kwh for slot, kwh in sorted(out.items()) if kwh > EPSILON_KWH},
        start=slot_of(periods[0][0]),
        end=slot_of(periods[-1][1] - timedelta(microseconds=1)) + SLOT,
    )


def power_to_half_hours(power: Mapping[datetime, float]) -> SolarForecast:
    """Return the half-hourly kWh of power samples in W (straight lines between)."""
    curve = PowerCurve.of(power)
    if len(curve.times) < 2:  # noqa: PLR2004
        return SolarForecast()
    out: dict[datetime, float] = {}
    for slot, a, b in _pieces(curve.times[0], curve.times[-1]):
        if (kwh := curve.integral(a, b) / 1000) > EPSILON_KWH:
            out[slot] = out.get(slot, 0.0) + kwh
    return SolarForecast(
        kwh=out,
        start=slot_of(curve.times[0]),
        end=slot_of(curve.times[-1] - timedelta(microseconds=1)) + SLOT,
    )


def detect_keying(
    wh: Mapping[datetime, float], power: Mapping[datetime, float]
) -> Keying:
    """Return the keying under which the periods' Wh best match the power curve."""
    times = sorted(wh)
    step = typical_step(times) or SLOT
    curve = PowerCurve.of(power)
    misfit = {}
    for keyed in Keying:
        periods = _periods(times, keyed, step)
        misfit[keyed] = sum(
            abs(wh[moment] - curve.integral(start, end))
            for moment, (start, end) in zip(times, periods, strict=True)
        )
    return Keying.END if misfit[Keying.END] < misfit[Keying.START] else Keying.START


def merge(forecasts: Iterable[SolarForecast]) -> SolarForecast:
    """Return the sum of several forecasts (planes, sites, days), over their union."""
    total: dict[datetime, float] = {}
    starts, ends = [], []
    for forecast in forecasts:
        if forecast.start is None or forecast.end is None:
            continue
        starts.append(forecast.start)
        ends.append(forecast.end)
        for slot, kwh in forecast.kwh.items():
            total[slot] = total.get(slot, 0.0) + kwh
    if not starts:
        return SolarForecast()
    return SolarForecast(
        kwh=dict(sorted(total.items())), start=min(starts), end=max(ends)
    )


def choose(p50: float, p10: float | None, estimate: Estimate) -> float:
    """Return the estimate to plan with (P50 where no P10 is given)."""
    if p10 is None or estimate is Estimate.P50:
        return p50
    if estimate is Estimate.P10:
        return p10
    return (p50 + p10) / 2


def from_wh_hours(raw: Any, keyed: Keying = Keying.START) -> Parsed:
    """Read an energy platform's ``{"wh_hours": {time: Wh}}``."""
    if not isinstance(raw, Mapping) or "wh_hours" not in raw:
        return Parsed(SolarForecast(), ("the forecast has no wh_hours",))
    points, problems = parse_series(raw["wh_hours"], "wh_hours")
    return Parsed(energy_to_half_hours(points, keyed), tuple(problems))


def from_solcast(detailed: Any, estimate: Estimate) -> Parsed:
    """Read Solcast's ``detailedForecast`` (or ``detailedHourly``): kW per period."""
    if not isinstance(detailed, Sequence) or isinstance(detailed, str):
        return Parsed(SolarForecast(), ("detailedForecast is not a list",))
    kw: dict[datetime, float] = {}
    problems = []
    no_p10 = False
    for item in detailed:
        if not isinstance(item, Mapping):
            problems.append(f"detailedForecast: {item!r} is not a period")
            continue
        start = parse_time(item.get("period_start"))
        p50 = parse_number(item.get("pv_estimate"))
        p10 = parse_number(item.get("pv_estimate10"))
        if start is None or p50 is None:
            problems.append(f"detailedForecast: {dict(item)!r} cannot be used")
            continue
        no_p10 = no_p10 or (p10 is None and estimate is not Estimate.P50)
        kw[start] = choose(p50, p10, estimate)
    if no_p10:
        problems.append("pv_estimate10 is not given everywhere: P50 used there")
    times = sorted(kw)
    step = typical_step(times) or SLOT
    wh = {moment: value * 1000 * (step / HOUR) for moment, value in kw.items()}
    return Parsed(energy_to_half_hours(wh, Keying.START, step=step), tuple(problems))


def from_forecast_solar(attributes: Mapping[str, Any]) -> Parsed:
    """Read Forecast.Solar-style attributes: ``wh_period`` (Wh) and/or ``watts`` (W).

    With both, the keying of ``wh_period`` is the one its energies fit the
    power curve best under (the API marks period ends, sensors built on it
    period starts), and the curve shapes energy inside each period.
    """
    watts, problems = (
        parse_series(attributes["watts"], "watts")
        if "watts" in attributes
        else ({}, [])
    )
    if "wh_period" in attributes:
        wh, more = parse_series(attributes["wh_period"], "wh_period")
        problems += more
        keyed = detect_keying(wh, watts) if watts else Keying.START
        return Parsed(energy_to_half_hours(wh, keyed, power=watts), tuple(problems))
    return Parsed(power_to_half_hours(watts), tuple(problems))


FORECAST_ATTRIBUTES = ("detailedForecast", "detailedHourly", "wh_period", "watts")


def has_forecast(attributes: Mapping[str, Any]) -> bool:
    """Return whether an entity's attributes hold a forecast hems can read."""
    return any(name in attributes for name in FORECAST_ATTRIBUTES)


def from_attributes(attributes: Mapping[str, Any], estimate: Estimate) -> Parsed:
    """Read whichever forecast attribute a sensor carries."""
    if "detailedForecast" in attributes:
        return from_solcast(attributes["detailedForecast"], estimate)
    if "detailedHourly" in attributes:
        return from_solcast(attributes["detailedHourly"], estimate)
    if "wh_period" in attributes or "watts" in attributes:
        return from_forecast_solar(attributes)
    return Parsed(SolarForecast(), ("no forecast attribute",))
