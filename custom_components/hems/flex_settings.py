"""The household's flexibility-event settings (pure: no Home Assistant import).

They live in one section of the entry's options (``flex``): what to do with
a new event (accept it, ask, or decline it), what an Octopoint is worth, the
uplift an OpenADR SIMPLE level stands for, and the sources to follow.  An
entry without the section asks about every event.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Any, Final

from .flex import OCTOPOINT_PENCE
from .flex.openadr import DEFAULT_LEVEL_UPLIFT_P

SECTION: Final = "flex"
CONF_POLICY: Final = "policy"
CONF_PENCE_PER_POINT: Final = "pence_per_point"
CONF_LEVEL_UPLIFT: Final = "level_uplift_p"
CONF_SAVING_SESSIONS: Final = "saving_session_entity"
CONF_FREE_ELECTRICITY: Final = "free_electricity_entity"
CONF_MQTT_TOPIC: Final = "mqtt_topic"
CONF_VTN_URL: Final = "openadr_vtn_url"
CONF_VEN_NAME: Final = "openadr_ven_name"
CONF_VEN_ID: Final = "openadr_ven_id"
CONF_CERT: Final = "openadr_cert"
CONF_KEY: Final = "openadr_key"
CONF_FINGERPRINT: Final = "openadr_vtn_fingerprint"
CONF_CA: Final = "openadr_ca"
CONF_POLL: Final = "openadr_poll_seconds"

DEFAULT_POLL_SECONDS: Final = 60


class Policy(StrEnum):
    """What hems does with a new event."""

    AUTO_ACCEPT = "auto_accept"
    ASK = "ask"  # pending until the household accepts or declines it
    DECLINE = "decline"


@dataclass(frozen=True, slots=True, kw_only=True)
class FlexSettings:
    """What the householder chose (or the defaults)."""

    policy: Policy = Policy.ASK
    pence_per_point: float = OCTOPOINT_PENCE
    level_uplift_p: float = DEFAULT_LEVEL_UPLIFT_P
    saving_session_entity: str | None = None
    free_electricity_entity: str | None = None
    mqtt_topic: str | None = None
    # OpenADR 2.0b VEN (openadr_ven.py): off without a VTN URL.
    vtn_url: str | None = None
    ven_name: str = "hems"
    ven_id: str | None = None
    # PEM text or file paths: the certificate and key sign messages and are
    # the TLS client certificate; the CA checks an https VTN's certificate.
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    vtn_fingerprint: str | None = None
    poll_seconds: float = DEFAULT_POLL_SECONDS

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> FlexSettings:
        """Read the section; a value that cannot be used is its default."""
        raw = options.get(SECTION)
        if not isinstance(raw, Mapping):
            return cls()
        try:
            policy = Policy(raw.get(CONF_POLICY, Policy.ASK))
        except ValueError:
            policy = Policy.ASK
        return cls(
            policy=policy,
            pence_per_point=_number(raw.get(CONF_PENCE_PER_POINT), OCTOPOINT_PENCE),
            level_uplift_p=_number(raw.get(CONF_LEVEL_UPLIFT), DEFAULT_LEVEL_UPLIFT_P),
            saving_session_entity=_text(raw.get(CONF_SAVING_SESSIONS)),
            free_electricity_entity=_text(raw.get(CONF_FREE_ELECTRICITY)),
            mqtt_topic=_text(raw.get(CONF_MQTT_TOPIC)),
            vtn_url=_text(raw.get(CONF_VTN_URL)),
            ven_name=_text(raw.get(CONF_VEN_NAME)) or "hems",
            ven_id=_text(raw.get(CONF_VEN_ID)),
            cert=_text(raw.get(CONF_CERT)),
            key=_text(raw.get(CONF_KEY)),
            ca=_text(raw.get(CONF_CA)),
            vtn_fingerprint=_text(raw.get(CONF_FINGERPRINT)),
            poll_seconds=max(1.0, _number(raw.get(CONF_POLL), DEFAULT_POLL_SECONDS)),
        )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if not math.isfinite(value) or value < 0:
        return default
    return float(value)
