"""Price sources of hems: the Octopus Energy API, a replayed history, HA entities.

A pure library (no Home Assistant imports): typed models, validation and
merging of half-hourly slots, an aiohttp client of the Octopus REST API, a
reader and day-mapper for recorded Agile price histories, and a parser of the
Octopus Energy integration's rate attributes.
"""

from .entity_rates import (
    OCTOPUS_ENERGY_DOMAIN,
    RatesDay,
    RatesEntity,
    RatesProblem,
    describe_rates_entity,
    parse_rates_attribute,
    rates_entities_problem,
)
from .exceptions import (
    InvalidPriceRecord,
    OctopusAuthenticationError,
    OctopusConnectionError,
    OctopusError,
    OctopusNotFoundError,
    OctopusRateLimitError,
    OctopusResponseError,
    PriceFileError,
    PriceSourceError,
)
from .models import REGIONS, MergeResult, PriceSlot, Product, RateFetch
from .octopus import (
    DEFAULT_BASE_URL,
    MAX_PAGES,
    MAX_RETRY_AFTER,
    UNIT_RATES_PAGE_SIZE,
    OctopusClient,
    tariff_code,
)
from .replay import HISTORY_HEADER, ReplaySource, load_price_history
from .validation import (
    MAX_PRICE,
    MIN_PRICE,
    SLOT,
    find_gaps,
    merge_slots,
    parse_rate,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "HISTORY_HEADER",
    "MAX_PAGES",
    "MAX_PRICE",
    "MAX_RETRY_AFTER",
    "MIN_PRICE",
    "OCTOPUS_ENERGY_DOMAIN",
    "REGIONS",
    "SLOT",
    "UNIT_RATES_PAGE_SIZE",
    "InvalidPriceRecord",
    "MergeResult",
    "OctopusAuthenticationError",
    "OctopusClient",
    "OctopusConnectionError",
    "OctopusError",
    "OctopusNotFoundError",
    "OctopusRateLimitError",
    "OctopusResponseError",
    "PriceFileError",
    "PriceSlot",
    "PriceSourceError",
    "Product",
    "RateFetch",
    "RatesDay",
    "RatesEntity",
    "RatesProblem",
    "ReplaySource",
    "describe_rates_entity",
    "find_gaps",
    "load_price_history",
    "merge_slots",
    "parse_rate",
    "parse_rates_attribute",
    "rates_entities_problem",
    "tariff_code",
]
