"""Config flow for hems: pick a price source, test it, and later change it."""

from datetime import timedelta
from pathlib import Path
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import probatio

from .const import (
    CONF_ACCOUNT_NUMBER,
    CONF_API_KEY,
    CONF_BASE_LOAD,
    CONF_BASE_LOAD_ENTITY,
    CONF_GAS_PRICE,
    CONF_GRID_EXPORT_POSITIVE,
    CONF_GRID_POWER_ENTITY,
    CONF_IMPORT_LIMIT,
    CONF_PRODUCT,
    CONF_RATES_ENTITIES,
    CONF_REGION,
    CONF_REPLAY_FILE,
    CONF_SOURCE,
    DOMAIN,
    LOGGER,
    SUBENTRY_LOAD,
    PriceSourceType,
)
from .export_flow import (
    async_check_section as async_check_export,
    section_schema as export_section_schema,
)
from .flex_flow import (
    async_check_section as async_check_flex,
    section_schema as flex_section_schema,
)
from .form_fields import Errors, Placeholders
from .load_flow import LoadSubentryFlow
from .prices import (
    REGIONS,
    OctopusAuthenticationError,
    OctopusClient,
    OctopusConnectionError,
    OctopusError,
    OctopusNotFoundError,
    PriceFileError,
    load_price_history,
    rates_entities_problem,
)
from .site_flow import async_check_section, section_schema
from .sources import describe_entity

REGION_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[
            SelectOptionDict(value=code, label=f"{code}: {name}")
            for code, name in REGIONS.items()
        ],
        mode=SelectSelectorMode.DROPDOWN,
    )
)
RATES_SELECTOR = EntitySelector(
    EntitySelectorConfig(domain=["event", "sensor"], multiple=True)
)
PRICE_SELECTOR = NumberSelector(
    NumberSelectorConfig(
        min=0,
        max=100,
        step=0.01,
        unit_of_measurement="p/kWh",
        mode=NumberSelectorMode.BOX,
    )
)
POWER_SELECTOR = NumberSelector(
    NumberSelectorConfig(
        min=0, max=100, step=0.1, unit_of_measurement="kW", mode=NumberSelectorMode.BOX
    )
)
PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def source_schema(source: PriceSourceType, product: str = "") -> probatio.Schema:
    """Return the form of a price source's settings."""
    match source:
        case PriceSourceType.OCTOPUS:
            return probatio.Schema(
                {
                    probatio.Required(CONF_REGION): REGION_SELECTOR,
                    probatio.Required(CONF_PRODUCT, default=product): TextSelector(),
                }
            )
        case PriceSourceType.ENTITY:
            return probatio.Schema(
                {probatio.Required(CONF_RATES_ENTITIES): RATES_SELECTOR}
            )
        case PriceSourceType.REPLAY:
            return probatio.Schema(
                {probatio.Required(CONF_REPLAY_FILE): TextSelector()}
            )


async def test_source(
    hass: HomeAssistant, source: PriceSourceType, user_input: dict[str, Any]
) -> tuple[Errors, Placeholders]:
    """Check that a source gives prices; return form errors and placeholders."""
    match source:
        case PriceSourceType.OCTOPUS:
            return await _test_octopus(hass, user_input)
        case PriceSourceType.ENTITY:
            return _test_entities(hass, user_input[CONF_RATES_ENTITIES])
        case PriceSourceType.REPLAY:
            return await _test_replay(hass, user_input[CONF_REPLAY_FILE])


async def _test_octopus(
    hass: HomeAssistant, user_input: dict[str, Any]
) -> tuple[Errors, Placeholders]:
    client = OctopusClient(async_get_clientsession(hass))
    product = user_input[CONF_PRODUCT].strip().upper()
    user_input[CONF_PRODUCT] = product
    try:
        fetch = await client.unit_rates(
            product,
            user_input[CONF_REGION],
            period_from=dt_util.utcnow() - timedelta(days=2),
        )
    except OctopusNotFoundError:
        return {CONF_PRODUCT: "unknown_product"}, {"product": product}
    except OctopusConnectionError as err:
        return {"base": "cannot_connect"}, {"error": str(err)}
    except OctopusError as err:
        return {"base": "api_error"}, {"error": str(err)}
    if not fetch.slots:
        return {"base": "no_prices"}, {"product": product}
    return {}, {}


def _test_entities(
    hass: HomeAssistant, entity_ids: list[str]
) -> tuple[Errors, Placeholders]:
    """Check the rates entities (see `rates_entities_problem` for the rules)."""
    entities = []
    for entity_id in entity_ids:
        if (state := hass.states.get(entity_id)) is None:
            return {CONF_RATES_ENTITIES: "entity_not_found"}, {"entity": entity_id}
        entities.append(describe_entity(hass, state))
    if (problem := rates_entities_problem(entities)) is None:
        return {}, {}
    placeholders = {"entity": problem.entity}
    if problem.other:
        placeholders["other"] = problem.other
    if problem.error:
        placeholders["error"] = problem.error
    return {CONF_RATES_ENTITIES: problem.key}, placeholders


async def _test_replay(hass: HomeAssistant, path: str) -> tuple[Errors, Placeholders]:
    file = Path(path)
    if not await hass.async_add_executor_job(file.is_file):
        return {CONF_REPLAY_FILE: "file_not_found"}, {"path": path}
    try:
        await hass.async_add_executor_job(load_price_history, file)
    except PriceFileError as err:
        return {CONF_REPLAY_FILE: "invalid_file"}, {"error": str(err)}
    return {}, {}


def entry_title(source: PriceSourceType, data: dict[str, Any]) -> str:
    """Return a readable title for an entry."""
    match source:
        case PriceSourceType.OCTOPUS:
            return f"Octopus {data[CONF_PRODUCT]} ({REGIONS[data[CONF_REGION]]})"
        case PriceSourceType.ENTITY:
            return "Octopus Energy rates"
        case PriceSourceType.REPLAY:
            return f"Recorded prices ({Path(data[CONF_REPLAY_FILE]).name})"


class HemsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up hems: choose the price source, then its settings."""

    VERSION = 1

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> HemsOptionsFlow:
        """Return the options flow."""
        return HemsOptionsFlow()

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry types: one per controlled load."""
        return {SUBENTRY_LOAD: LoadSubentryFlow}

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where prices come from."""
        return self.async_show_menu(
            step_id="user", menu_options=[source.value for source in PriceSourceType]
        )

    async def async_step_octopus(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Octopus API settings."""
        return await self._async_source_step(PriceSourceType.OCTOPUS, user_input)

    async def async_step_entity(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the rates entities of another integration."""
        return await self._async_source_step(PriceSourceType.ENTITY, user_input)

    async def async_step_replay(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a recorded price file."""
        return await self._async_source_step(PriceSourceType.REPLAY, user_input)

    async def _async_source_step(
        self, source: PriceSourceType, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: Errors = {}
        placeholders: Placeholders = {}
        if user_input is not None:
            errors, placeholders = await test_source(self.hass, source, user_input)
            if not errors:
                data = {CONF_SOURCE: source.value, **user_input}
                return self.async_create_entry(
                    title=entry_title(source, data), data=data
                )
        schema = source_schema(source, await self._async_default_product(source))
        return self.async_show_form(
            step_id=source.value,
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_default_product(self, source: PriceSourceType) -> str:
        """Discover the current Agile product code (empty if unknown)."""
        if source is not PriceSourceType.OCTOPUS:
            return ""
        client = OctopusClient(async_get_clientsession(self.hass))
        try:
            return await client.current_agile_product() or ""
        except OctopusError as err:
            LOGGER.debug("Could not discover the Agile product: %s", err)
            return ""

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the settings of the configured price source."""
        entry = self._get_reconfigure_entry()
        source = PriceSourceType(entry.data[CONF_SOURCE])
        errors: Errors = {}
        placeholders: Placeholders = {}
        if user_input is not None:
            errors, placeholders = await test_source(self.hass, source, user_input)
            if not errors:
                data = {**entry.data, **user_input}
                return self.async_update_and_abort(
                    entry, title=entry_title(source, data), data=data
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                source_schema(source), user_input or dict(entry.data)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


class HemsOptionsFlow(OptionsFlow):
    """Settings that can change at any time: site, gas price, Octopus account."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the options."""
        errors: Errors = {}
        placeholders: Placeholders = {}
        if user_input is not None:
            errors, placeholders = await self._async_test_account(user_input)
            for key in (CONF_BASE_LOAD_ENTITY, CONF_GRID_POWER_ENTITY):
                entity_id = user_input.get(key)
                if entity_id and self.hass.states.get(entity_id) is None:
                    errors[key] = "entity_not_found"
                    placeholders["entity"] = entity_id
            # The "Solar and house load" section (site_flow.py).
            more_errors, more_placeholders = await async_check_section(
                self.hass, user_input
            )
            errors.update(more_errors)
            placeholders.update(more_placeholders)
            # The "Export" section (export_flow.py).
            more_errors, more_placeholders = await async_check_export(
                self.hass, user_input, self.config_entry.data.get(CONF_REGION)
            )
            errors.update(more_errors)
            placeholders.update(more_placeholders)
            # The "Flexibility events" section (flex_flow.py).
            more_errors, more_placeholders = await async_check_flex(
                self.hass, user_input
            )
            errors.update(more_errors)
            placeholders.update(more_placeholders)
            if not errors:
                return self.async_create_entry(data=user_input)
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_IMPORT_LIMIT): POWER_SELECTOR,
                probatio.Optional(CONF_BASE_LOAD): POWER_SELECTOR,
                probatio.Optional(CONF_BASE_LOAD_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="sensor", device_class="power")
                ),
                probatio.Optional(CONF_GAS_PRICE): PRICE_SELECTOR,
                probatio.Optional(CONF_GRID_POWER_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="sensor", device_class="power")
                ),
                probatio.Optional(CONF_GRID_EXPORT_POSITIVE): BooleanSelector(),
                probatio.Optional(CONF_API_KEY): PASSWORD_SELECTOR,
                probatio.Optional(CONF_ACCOUNT_NUMBER): TextSelector(),
                **section_schema(),
                **export_section_schema(),
                **flex_section_schema(),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(self.config_entry.options)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_test_account(
        self, user_input: dict[str, Any]
    ) -> tuple[Errors, Placeholders]:
        """Validate the API key against the account, when either is given."""
        api_key = (user_input.get(CONF_API_KEY) or "").strip()
        account = (user_input.get(CONF_ACCOUNT_NUMBER) or "").strip().upper()
        if not api_key and not account:
            user_input.pop(CONF_API_KEY, None)
            user_input.pop(CONF_ACCOUNT_NUMBER, None)
            return {}, {}
        if not api_key:
            return {CONF_API_KEY: "api_key_required"}, {}
        if not account:
            return {CONF_ACCOUNT_NUMBER: "account_required"}, {}
        user_input[CONF_API_KEY] = api_key
        user_input[CONF_ACCOUNT_NUMBER] = account
        client = OctopusClient(async_get_clientsession(self.hass), api_key=api_key)
        try:
            await client.validate_account(account)
        except OctopusAuthenticationError:
            return {CONF_API_KEY: "invalid_auth"}, {}
        except OctopusNotFoundError:
            return {CONF_ACCOUNT_NUMBER: "account_not_found"}, {"account": account}
        except OctopusError as err:
            return {"base": "cannot_connect"}, {"error": str(err)}
        return {}, {}
