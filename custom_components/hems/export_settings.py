"""Where export prices come from, and the export limit (pure: no HA import).

They live in one section of the entry's options (``export``): Agile Outgoing
from the Octopus API (product found at set-up), the Octopus Energy
integration's export rates entities, or a fixed export rate; and the DNO
export limit in kW. An entry without the section exports nothing for money.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Any, Final

SECTION: Final = "export"
CONF_EXPORT_SOURCE: Final = "export_source"
CONF_EXPORT_PRODUCT: Final = "export_product"
CONF_EXPORT_REGION: Final = "export_region"
CONF_EXPORT_ENTITIES: Final = "export_entities"
CONF_EXPORT_RATE: Final = "export_rate"
CONF_EXPORT_LIMIT: Final = "export_limit_kw"


class ExportSource(StrEnum):
    """Where export prices come from."""

    NONE = "none"
    OCTOPUS = "octopus"  # Agile Outgoing from the public Octopus API
    ENTITY = "entity"  # the Octopus Energy integration's export rates entities
    FIXED = "fixed"  # one rate for every half-hour


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportSettings:
    """What the householder chose (or nothing)."""

    source: ExportSource = ExportSource.NONE
    product: str | None = None
    region: str | None = None
    entities: tuple[str, ...] = ()
    rate: float | None = None
    limit_kw: float | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ExportSettings:
        """Read the section; what cannot be used is left out."""
        raw = options.get(SECTION)
        if not isinstance(raw, Mapping):
            return cls()
        try:
            source = ExportSource(raw.get(CONF_EXPORT_SOURCE, ExportSource.NONE))
        except ValueError:
            source = ExportSource.NONE
        entities = raw.get(CONF_EXPORT_ENTITIES) or ()
        if isinstance(entities, str):
            entities = (entities,)
        return cls(
            source=source,
            product=_text(raw.get(CONF_EXPORT_PRODUCT)),
            region=_text(raw.get(CONF_EXPORT_REGION)),
            entities=tuple(str(item) for item in entities),
            rate=_finite(raw.get(CONF_EXPORT_RATE)),
            limit_kw=_finite(raw.get(CONF_EXPORT_LIMIT), positive=True),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _finite(value: Any, *, positive: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or (positive and value <= 0):
        return None
    return float(value)
