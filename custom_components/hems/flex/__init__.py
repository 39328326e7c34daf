"""Demand-side flexibility events: one model for every source, no Home Assistant.

An event (`FlexEvent`) asks the household to turn import down or up over a
window; accepted events change the import prices the planner sees
(`adjust_prices`) and the per-slot import caps and targets it plans to
(`slot_targets`); what they got is worked out from metered use against
a baseline (`delivery`).  Sources: flat fields (`event_from_fields`: the
service and MQTT), Octopus schemes (`saving_sessions`,
`free_electricity_sessions`) and OpenADR (`read_event`).
"""

from .delivery import Delivery, delivery, matching_days, slot_baselines
from .errors import FlexEventError
from .models import (
    OCTOPOINT_PENCE,
    Ask,
    Baseline,
    Direction,
    FlexEvent,
    Reward,
    Source,
)
from .octopus import free_electricity_sessions, saving_sessions
from .openadr import OpenAdrEvent, read_event
from .prices import adjust_prices
from .rules import check_admissible
from .simple import event_from_fields
from .targets import slot_targets

__all__ = [
    "OCTOPOINT_PENCE",
    "Ask",
    "Baseline",
    "Delivery",
    "Direction",
    "FlexEvent",
    "FlexEventError",
    "OpenAdrEvent",
    "Reward",
    "Source",
    "adjust_prices",
    "check_admissible",
    "delivery",
    "event_from_fields",
    "free_electricity_sessions",
    "matching_days",
    "read_event",
    "saving_sessions",
    "slot_baselines",
    "slot_targets",
]
