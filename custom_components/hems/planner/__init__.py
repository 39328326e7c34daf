"""The hems planner: when each controllable load runs over the priced horizon.

Pure Python (no Home Assistant import); only relative imports, so it also runs
as the top-level package ``planner`` (``python -m planner``).
"""

from .errors import InfeasibleError, ProblemError
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    Explanation,
    InterruptibleLoad,
    Load,
    Plan,
    Problem,
    Slot,
    Window,
)
from .problem_io import parse_problem, plan_to_json, problem_to_json
from .rules import rule_decisions
from .simulate import Simulation, simulate, simulate_detail
from .solve import plan
from .validation import validate_problem

__all__ = [
    "Battery",
    "BatteryMode",
    "CycleLoad",
    "Decisions",
    "Explanation",
    "InfeasibleError",
    "InterruptibleLoad",
    "Load",
    "Plan",
    "Problem",
    "ProblemError",
    "Simulation",
    "Slot",
    "Window",
    "parse_problem",
    "plan",
    "plan_to_json",
    "problem_to_json",
    "rule_decisions",
    "simulate",
    "simulate_detail",
    "validate_problem",
]
