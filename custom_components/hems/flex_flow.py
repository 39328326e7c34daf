"""The options form's "Flexibility events" section."""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .flex_settings import (
    CONF_CA,
    CONF_CERT,
    CONF_FINGERPRINT,
    CONF_FREE_ELECTRICITY,
    CONF_KEY,
    CONF_LEVEL_UPLIFT,
    CONF_MQTT_TOPIC,
    CONF_PENCE_PER_POINT,
    CONF_POLICY,
    CONF_POLL,
    CONF_SAVING_SESSIONS,
    CONF_VEN_ID,
    CONF_VEN_NAME,
    CONF_VTN_URL,
    SECTION,
    FlexSettings,
    Policy,
)
from .form_fields import Errors, Placeholders, number_box
from .openadr_tls import PemError, check_fingerprint, read_credentials


def section_schema() -> dict[probatio.Marker, Any]:
    """Return the section's part of the options form (optional: old forms work)."""
    fields = probatio.Schema(
        {
            probatio.Required(CONF_POLICY, default=Policy.ASK.value): SelectSelector(
                SelectSelectorConfig(
                    options=[policy.value for policy in Policy],
                    mode=SelectSelectorMode.LIST,
                    translation_key="flex_policy",
                )
            ),
            probatio.Optional(CONF_PENCE_PER_POINT): number_box(0.001, "p", minimum=0),
            probatio.Optional(CONF_LEVEL_UPLIFT): number_box(0.1, "p/kWh", minimum=0),
            probatio.Optional(CONF_SAVING_SESSIONS): EntitySelector(
                EntitySelectorConfig(domain="event")
            ),
            probatio.Optional(CONF_FREE_ELECTRICITY): EntitySelector(
                EntitySelectorConfig(domain=["calendar", "event", "sensor"])
            ),
            probatio.Optional(CONF_MQTT_TOPIC): TextSelector(),
            probatio.Optional(CONF_VTN_URL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
            ),
            probatio.Optional(CONF_VEN_NAME): TextSelector(),
            probatio.Optional(CONF_VEN_ID): TextSelector(),
            probatio.Optional(CONF_CERT): TextSelector(
                TextSelectorConfig(multiline=True)
            ),
            probatio.Optional(CONF_KEY): TextSelector(
                TextSelectorConfig(multiline=True)
            ),
            probatio.Optional(CONF_CA): TextSelector(
                TextSelectorConfig(multiline=True)
            ),
            probatio.Optional(CONF_FINGERPRINT): TextSelector(),
            probatio.Optional(CONF_POLL): number_box(1, "s", minimum=0),
        }
    )
    return {probatio.Optional(SECTION): section(fields, {"collapsed": True})}


async def async_check_section(
    hass: HomeAssistant, user_input: dict[str, Any]
) -> tuple[Errors, Placeholders]:
    """Check the OpenADR certificates, key, CA and fingerprint (tidied in place)."""
    raw = user_input.get(SECTION)
    if not isinstance(raw, Mapping):
        return {}, {}
    data = dict(raw)
    user_input[SECTION] = data
    settings = FlexSettings.from_options({SECTION: data})
    fields = {"cert": CONF_CERT, "key": CONF_KEY, "ca": CONF_CA}
    try:
        await hass.async_add_executor_job(read_credentials, settings, fields)
        fingerprint = check_fingerprint(CONF_FINGERPRINT, settings.vtn_fingerprint)
    except PemError as err:
        return {err.field: err.code}, {"openadr_error": err.reason}
    if fingerprint is not None:
        data[CONF_FINGERPRINT] = fingerprint
    return {}, {}
