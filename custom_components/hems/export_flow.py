"""The options form's "Export" section: where export prices come from."""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio

from .export_settings import (
    CONF_EXPORT_ENTITIES,
    CONF_EXPORT_LIMIT,
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_RATE,
    CONF_EXPORT_REGION,
    CONF_EXPORT_SOURCE,
    SECTION,
    ExportSource,
)
from .form_fields import Errors, Placeholders, number_box
from .prices import REGIONS, OctopusClient, OctopusError, rates_entities_problem
from .sources import describe_entity


def section_schema() -> dict[probatio.Marker, Any]:
    """Return the section's part of the options form (optional: old forms work)."""
    fields = probatio.Schema(
        {
            probatio.Required(
                CONF_EXPORT_SOURCE, default=ExportSource.NONE.value
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[source.value for source in ExportSource],
                    mode=SelectSelectorMode.LIST,
                    translation_key="export_source",
                )
            ),
            probatio.Optional(CONF_EXPORT_REGION): SelectSelector(
                SelectSelectorConfig(
                    options=list(REGIONS), mode=SelectSelectorMode.DROPDOWN
                )
            ),
            probatio.Optional(CONF_EXPORT_ENTITIES): EntitySelector(
                EntitySelectorConfig(domain="event", multiple=True)
            ),
            probatio.Optional(CONF_EXPORT_RATE): number_box(0.01, "p/kWh"),
            probatio.Optional(CONF_EXPORT_LIMIT): number_box(0.01, "kW"),
        }
    )
    return {probatio.Optional(SECTION): section(fields, {"collapsed": True})}


async def async_check_section(
    hass: HomeAssistant, user_input: dict[str, Any], import_region: str | None
) -> tuple[Errors, Placeholders]:
    """Check the section's settings; tidy them (and find the product) in place."""
    raw = user_input.get(SECTION)
    if not isinstance(raw, Mapping):
        return {}, {}
    data = dict(raw)
    user_input[SECTION] = data
    limit = data.get(CONF_EXPORT_LIMIT)
    if limit is not None and not 0 < limit <= 100:  # noqa: PLR2004
        return {CONF_EXPORT_LIMIT: "export_limit_range"}, {}
    source = ExportSource(data.get(CONF_EXPORT_SOURCE, ExportSource.NONE))
    for key, keep in (
        (CONF_EXPORT_REGION, source is ExportSource.OCTOPUS),
        (CONF_EXPORT_PRODUCT, source is ExportSource.OCTOPUS),
        (CONF_EXPORT_ENTITIES, source is ExportSource.ENTITY),
        (CONF_EXPORT_RATE, source is ExportSource.FIXED),
    ):
        if not keep:
            data.pop(key, None)
    match source:
        case ExportSource.FIXED:
            rate = data.get(CONF_EXPORT_RATE)
            if rate is None or not -100 <= rate <= 100:  # noqa: PLR2004
                return {CONF_EXPORT_RATE: "export_rate_range"}, {}
        case ExportSource.ENTITY:
            return _check_entities(hass, list(data.get(CONF_EXPORT_ENTITIES) or []))
        case ExportSource.OCTOPUS:
            return await _async_find_product(hass, data, import_region)
        case ExportSource.NONE:
            pass
    return {}, {}


async def _async_find_product(
    hass: HomeAssistant, data: dict[str, Any], import_region: str | None
) -> tuple[Errors, Placeholders]:
    """Find the Agile Outgoing product on sale now (stored with the region)."""
    region = data.get(CONF_EXPORT_REGION) or import_region
    if region not in REGIONS:
        return {CONF_EXPORT_REGION: "export_region_required"}, {}
    data[CONF_EXPORT_REGION] = region
    client = OctopusClient(async_get_clientsession(hass))
    try:
        product = await client.current_agile_product(export=True)
    except OctopusError as err:
        return {"base": "export_cannot_connect"}, {"error": str(err)}
    if product is None:
        return {"base": "export_no_product"}, {}
    data[CONF_EXPORT_PRODUCT] = product
    return {}, {}


def _check_entities(
    hass: HomeAssistant, entity_ids: list[str]
) -> tuple[Errors, Placeholders]:
    if not entity_ids:
        return {CONF_EXPORT_ENTITIES: "export_entities_required"}, {}
    entities = []
    for entity_id in entity_ids:
        if (state := hass.states.get(entity_id)) is None:
            return {CONF_EXPORT_ENTITIES: "export_entity_not_found"}, {
                "entity": entity_id
            }
        entities.append(describe_entity(hass, state))
    problem = rates_entities_problem(entities, export=True)
    if problem is not None:
        return {CONF_EXPORT_ENTITIES: f"export_{problem.key}"}, {
            "entity": problem.entity,
            **({"other": problem.other} if problem.other else {}),
        }
    return {}, {}
