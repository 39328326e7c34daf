"""The solar-forecast and house-load settings (pure: no Home Assistant import).

They live in one section of the entry's options (``solar_house``). An entry
without the section uses the defaults: the Energy dashboard's solar forecast
if it has one, and the base load learnt from the Energy dashboard's meters
where their history allows.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .house_load import Statistic
from .solar_forecast import Estimate

SECTION: Final = "solar_house"
CONF_FORECAST_SOURCE: Final = "forecast_source"
CONF_FORECAST_ENTITIES: Final = "forecast_entities"
CONF_ESTIMATE: Final = "estimate"
CONF_LEARN: Final = "learn_base_load"
CONF_WEEKS: Final = "learn_weeks"
CONF_STATISTIC: Final = "learn_statistic"

DEFAULT_WEEKS: Final = 4
MIN_WEEKS: Final = 1
MAX_WEEKS: Final = 12


class ForecastSource(StrEnum):
    """Where the solar forecast comes from."""

    ENERGY = "energy"  # the Energy dashboard's forecasts of its solar panels
    SENSOR = "sensor"  # sensors with a forecast attribute (Solcast, Forecast.Solar)
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSettings:
    """What the householder chose (or the defaults)."""

    forecast_source: ForecastSource = ForecastSource.ENERGY
    forecast_entities: tuple[str, ...] = ()
    estimate: Estimate = Estimate.P50
    learn: bool = True
    weeks: int = DEFAULT_WEEKS
    statistic: Statistic = Statistic.MEDIAN

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> InputSettings:
        """Read the section; a value that cannot be used is its default."""
        raw = options.get(SECTION)
        if not isinstance(raw, Mapping):
            return cls()
        entities = raw.get(CONF_FORECAST_ENTITIES) or ()
        if isinstance(entities, str):
            entities = (entities,)
        try:
            weeks = int(raw.get(CONF_WEEKS, DEFAULT_WEEKS))
        except TypeError, ValueError:
            weeks = DEFAULT_WEEKS
        return cls(
            forecast_source=_enum(
                ForecastSource, raw.get(CONF_FORECAST_SOURCE), ForecastSource.ENERGY
            ),
            forecast_entities=tuple(str(entity) for entity in entities),
            estimate=_enum(Estimate, raw.get(CONF_ESTIMATE), Estimate.P50),
            learn=bool(raw.get(CONF_LEARN, True)),
            weeks=min(max(weeks, MIN_WEEKS), MAX_WEEKS),
            statistic=_enum(Statistic, raw.get(CONF_STATISTIC), Statistic.MEDIAN),
        )


def _enum[E: StrEnum](kind: type[E], value: Any, default: E) -> E:
    try:
        return kind(value)
    except ValueError:
        return default
