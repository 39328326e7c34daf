"""The options form's "Solar and house load" section: its fields and checks."""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.util.unit_conversion import EnergyConverter
import probatio

from .form_fields import Errors, Placeholders
from .house_load import Statistic
from .site_options import (
    CONF_ESTIMATE,
    CONF_FORECAST_ENTITIES,
    CONF_FORECAST_SOURCE,
    CONF_LEARN,
    CONF_STATISTIC,
    CONF_WEEKS,
    DEFAULT_WEEKS,
    MAX_WEEKS,
    MIN_WEEKS,
    SECTION,
    ForecastSource,
)
from .solar_forecast import Estimate, has_forecast


def _select(options: list[str], key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=options, mode=SelectSelectorMode.LIST, translation_key=key
        )
    )


def section_schema() -> dict[probatio.Marker, Any]:
    """Return the section's part of the options form (optional: old forms work)."""
    fields = probatio.Schema(
        {
            probatio.Required(
                CONF_FORECAST_SOURCE, default=ForecastSource.ENERGY.value
            ): _select([source.value for source in ForecastSource], "forecast_source"),
            probatio.Optional(CONF_FORECAST_ENTITIES): EntitySelector(
                EntitySelectorConfig(domain="sensor", multiple=True)
            ),
            probatio.Required(CONF_ESTIMATE, default=Estimate.P50.value): _select(
                [estimate.value for estimate in Estimate], "estimate"
            ),
            probatio.Required(CONF_LEARN, default=True): BooleanSelector(),
            probatio.Required(CONF_WEEKS, default=DEFAULT_WEEKS): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_WEEKS,
                    max=MAX_WEEKS,
                    step=1,
                    unit_of_measurement="weeks",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            probatio.Required(CONF_STATISTIC, default=Statistic.MEDIAN.value): _select(
                [statistic.value for statistic in Statistic], "statistic"
            ),
        }
    )
    return {probatio.Optional(SECTION): section(fields, {"collapsed": True})}


async def async_check_section(
    hass: HomeAssistant, user_input: dict[str, Any]
) -> tuple[Errors, Placeholders]:
    """Check the section's settings; tidy them in ``user_input``."""
    data = user_input.get(SECTION)
    if not isinstance(data, Mapping):
        return {}, {}
    data = dict(data)
    if CONF_WEEKS in data:
        data[CONF_WEEKS] = int(data[CONF_WEEKS])
    source = ForecastSource(data.get(CONF_FORECAST_SOURCE, ForecastSource.ENERGY))
    entities = list(data.get(CONF_FORECAST_ENTITIES) or [])
    if source is not ForecastSource.SENSOR:
        data.pop(CONF_FORECAST_ENTITIES, None)
    user_input[SECTION] = data
    if source is ForecastSource.SENSOR:
        return _check_sensors(hass, entities)
    return {}, {}


def _check_sensors(
    hass: HomeAssistant, entities: list[str]
) -> tuple[Errors, Placeholders]:
    """Each chosen sensor must exist, carry a forecast and count energy."""
    if not entities:
        return {CONF_FORECAST_ENTITIES: "forecast_entity_required"}, {}
    for entity_id in entities:
        state = hass.states.get(entity_id)
        if state is None:
            return {CONF_FORECAST_ENTITIES: "forecast_entity_not_found"}, {
                "forecast_entity": entity_id
            }
        if not has_forecast(state.attributes):
            return {CONF_FORECAST_ENTITIES: "no_forecast_attribute"}, {
                "forecast_entity": entity_id
            }
        unit = state.attributes.get("unit_of_measurement")
        if unit is not None and unit not in EnergyConverter.VALID_UNITS:
            return {CONF_FORECAST_ENTITIES: "forecast_wrong_unit"}, {
                "forecast_entity": entity_id,
                "unit": str(unit),
            }
    return {}, {}
