"""Constants for the hems integration."""

from datetime import time, timedelta
from enum import StrEnum
import logging
from typing import Final

DOMAIN: Final = "hems"
LOGGER = logging.getLogger(__package__)

CONF_SOURCE: Final = "source"
CONF_REGION: Final = "region"
CONF_PRODUCT: Final = "product"
CONF_RATES_ENTITIES: Final = "rates_entities"
CONF_REPLAY_FILE: Final = "replay_file"
CONF_GAS_PRICE: Final = "gas_price"
CONF_API_KEY: Final = "api_key"
CONF_ACCOUNT_NUMBER: Final = "account_number"


class PriceSourceType(StrEnum):
    """Where prices come from."""

    OCTOPUS = "octopus"
    ENTITY = "entity"
    REPLAY = "replay"


UK_TIMEZONE: Final = "Europe/London"
# Octopus publishes the next day's Agile prices at about 16:00 UK time.
PUBLISH_TIME: Final = time(16, 0)
# From this local time on, tomorrow's prices are overdue: a window that needs
# them is planned with what is known (its priced part) rather than waiting.
PRICES_OVERDUE_TIME: Final = time(17, 0)
# After this local time, missing prices for tomorrow are a repair issue.
TOMORROW_MISSING_TIME: Final = time(20, 0)

# Polling: the regular interval while nothing is expected; while a half-hour
# still to come lacks its price (today, and tomorrow from PUBLISH_TIME), the
# fast interval for POLL_FAST_FOR after PUBLISH_TIME and the slow one at other
# times (a hole the API keeps, a late publication); the bounds of failure
# back-off (Retry-After is honoured up to BACKOFF_MAX).  No delay passes the
# next PUBLISH_TIME.
POLL_IDLE: Final = timedelta(hours=1)
POLL_WAITING: Final = timedelta(minutes=5)
POLL_FAST_FOR: Final = timedelta(hours=2)
POLL_LATE: Final = timedelta(minutes=30)
BACKOFF_MIN: Final = timedelta(minutes=1)
BACKOFF_MAX: Final = timedelta(minutes=30)

# Known prices are kept from this long before now (the rest are dropped).
KEEP_HISTORY: Final = timedelta(days=2)

STORAGE_VERSION: Final = 1

# Config subentries: one per controlled load.
SUBENTRY_LOAD: Final = "load"

# Site options (options flow of the main entry).
CONF_IMPORT_LIMIT: Final = "import_limit_kw"
CONF_BASE_LOAD: Final = "base_load_kw"
CONF_BASE_LOAD_ENTITY: Final = "base_load_entity"
# Live PV surplus diversion: the grid power sensor and its sign.
CONF_GRID_POWER_ENTITY: Final = "grid_power_entity"
CONF_GRID_EXPORT_POSITIVE: Final = "grid_export_positive"

# Re-plan when a battery's state of charge is this far from the plan.
SOC_DRIFT_KWH: Final = 0.5

EVENT_PLAN_UPDATED: Final = "hems_plan_updated"
EVENT_LOAD_STARTED: Final = "hems_load_started"
EVENT_LOAD_STOPPED: Final = "hems_load_stopped"
EVENT_DIVERT_STARTED: Final = "hems_divert_started"
EVENT_DIVERT_STOPPED: Final = "hems_divert_stopped"
