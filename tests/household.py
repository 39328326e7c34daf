"""A household's meters built from real NESO half-hourly series (for tests).

The shapes are real (tests/fixtures/neso_*.csv, NESO open data: "Supported by
National Grid ESO Open Data"), the household is scaled from them:

- the house draws GB underlying demand (national demand + embedded solar +
  embedded wind) scaled to a mean of 0.4 kW;
- 4 kWp of panels make GB embedded solar's share of its capacity;
- a 5 kWh battery (2.5 kW, 95 % charging efficiency) stores what the panels
  make beyond the house and covers the house when they make less;
- the grid meters see the rest.

So ``house = import - export + solar - battery in + battery out`` per
half-hour, exactly, which is what hems learns from.
"""

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AUTUMN = FIXTURES / "neso_2020-09-20_2020-11-01.csv"
SPRING = FIXTURES / "neso_2020-03-01_2020-04-05.csv"
SLOT = timedelta(minutes=30)
HOUR = timedelta(hours=1)

HOUSE_MEAN_KW = 0.4
KWP = 4.0
BATTERY_KWH = 5.0
BATTERY_KW = 2.5
CHARGE_EFFICIENCY = 0.95


@dataclass(frozen=True, slots=True)
class HalfHour:
    """One half-hour of the household's meters (kWh)."""

    start: datetime
    house: float
    solar: float
    battery_in: float
    battery_out: float
    grid_import: float
    grid_export: float


@cache
def household(path: Path = AUTUMN) -> tuple[HalfHour, ...]:
    """Return the household's half-hours over the file's span."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    underlying = [
        float(row["national_demand_mw"])
        + float(row["embedded_solar_generation_mw"])
        + float(row["embedded_wind_generation_mw"])
        for row in rows
    ]
    scale = HOUSE_MEAN_KW / (sum(underlying) / len(underlying))
    soc = BATTERY_KWH / 2
    out = []
    for row, demand in zip(rows, underlying, strict=True):
        start = datetime.fromisoformat(row["interval_start_utc"])
        house = demand * scale * 0.5
        solar = (
            float(row["embedded_solar_generation_mw"])
            / float(row["embedded_solar_capacity_mw"])
            * KWP
            * 0.5
        )
        charge = discharge = 0.0
        if solar > house:
            room = (BATTERY_KWH - soc) / CHARGE_EFFICIENCY
            charge = min(solar - house, BATTERY_KW * 0.5, room)
            soc += charge * CHARGE_EFFICIENCY
        else:
            discharge = min(house - solar, BATTERY_KW * 0.5, soc)
            soc -= discharge
        grid = house - solar + charge - discharge
        out.append(
            HalfHour(
                start=start,
                house=house,
                solar=solar,
                battery_in=charge,
                battery_out=discharge,
                grid_import=max(grid, 0.0),
                grid_export=max(-grid, 0.0),
            )
        )
    return tuple(out)


def hourly(halves: tuple[HalfHour, ...], field: str) -> dict[datetime, float]:
    """Return a meter's kWh per hour (what long-term statistics keep)."""
    hours: dict[datetime, float] = {}
    for half in halves:
        hour = half.start.replace(minute=0)
        hours[hour] = hours.get(hour, 0.0) + getattr(half, field)
    return hours


def house_from_hours(halves: tuple[HalfHour, ...]) -> dict[datetime, float]:
    """Return the house per half-hour as hourly statistics show it (half each)."""
    out = {}
    for hour, kwh in hourly(halves, "house").items():
        out[hour] = out[hour + SLOT] = kwh / 2
    return out
