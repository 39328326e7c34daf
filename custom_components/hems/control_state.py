"""What hems remembers between restarts about running its loads (pure)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .scheduling import Progress, WindowInstance


@dataclass(slots=True, kw_only=True)
class Override:
    """A manual state for a load until a time."""

    state: str  # "on", "off" or a battery mode
    until: datetime


@dataclass(slots=True, kw_only=True)
class Requirement:
    """A one-off need: ``hours`` of running before ``by`` (e.g. the car)."""

    hours: float
    by: datetime
    since: datetime


@dataclass(slots=True, kw_only=True)
class DayTotals:
    """Energy and cost of the controlled loads on one local day."""

    day: str = ""
    energy_kwh: float = 0.0
    cost: float = 0.0  # pence


@dataclass(slots=True, kw_only=True)
class LoadState:
    """Runtime state of one load."""

    automatic: bool = True
    runs: dict[str, int] = field(default_factory=dict)
    cycle_starts: dict[str, datetime] = field(default_factory=dict)
    last_counted_slot: datetime | None = None
    applied: str | None = None  # the last state applied: on/off/mode
    override: Override | None = None
    requirement: Requirement | None = None

    def progress(self) -> Progress:
        """Return what already ran, for planning."""
        requirement = None
        if self.requirement is not None:
            requirement = (
                WindowInstance(self.requirement.since, self.requirement.by),
                round(self.requirement.hours * 2),
            )
        return Progress(
            runs=dict(self.runs),
            cycle_starts=dict(self.cycle_starts),
            requirement=requirement,
        )


@dataclass(slots=True, kw_only=True)
class ControlState:
    """Runtime state of all loads and today's totals."""

    loads: dict[str, LoadState] = field(default_factory=dict)
    today: DayTotals = field(default_factory=DayTotals)
    last_applied_slot: datetime | None = None

    def load(self, load_id: str) -> LoadState:
        """Return (creating if needed) the state of a load."""
        return self.loads.setdefault(load_id, LoadState())

    def prune(self, before: datetime) -> None:
        """Forget window bookkeeping of windows that started before ``before``."""
        cutoff = before.strftime("%Y-%m-%dT%H:%MZ")
        for state in self.loads.values():
            state.runs = {key: n for key, n in state.runs.items() if key >= cutoff}
            state.cycle_starts = {
                key: when for key, when in state.cycle_starts.items() if key >= cutoff
            }

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "last_applied_slot": when(self.last_applied_slot),
            "today": {
                "day": self.today.day,
                "energy_kwh": self.today.energy_kwh,
                "cost": self.today.cost,
            },
            "loads": {
                load_id: {
                    "automatic": state.automatic,
                    "runs": state.runs,
                    "cycle_starts": {
                        k: v.isoformat() for k, v in state.cycle_starts.items()
                    },
                    "last_counted_slot": when(state.last_counted_slot),
                    "applied": state.applied,
                    "override": {
                        "state": state.override.state,
                        "until": state.override.until.isoformat(),
                    }
                    if state.override
                    else None,
                    "requirement": {
                        "hours": state.requirement.hours,
                        "by": state.requirement.by.isoformat(),
                        "since": state.requirement.since.isoformat(),
                    }
                    if state.requirement
                    else None,
                }
                for load_id, state in self.loads.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ControlState:
        """Restore from storage (raises KeyError/ValueError/TypeError if damaged)."""
        parse = datetime.fromisoformat

        def when(value: str | None) -> datetime | None:
            return parse(value) if value else None

        loads = {}
        for load_id, item in data.get("loads", {}).items():
            override = item.get("override")
            requirement = item.get("requirement")
            loads[load_id] = LoadState(
                automatic=bool(item.get("automatic", True)),
                runs={str(k): int(v) for k, v in item.get("runs", {}).items()},
                cycle_starts={
                    str(k): parse(v) for k, v in item.get("cycle_starts", {}).items()
                },
                last_counted_slot=when(item.get("last_counted_slot")),
                applied=item.get("applied"),
                override=Override(
                    state=override["state"], until=parse(override["until"])
                )
                if override
                else None,
                requirement=Requirement(
                    hours=float(requirement["hours"]),
                    by=parse(requirement["by"]),
                    since=parse(requirement["since"]),
                )
                if requirement
                else None,
            )
        today = data.get("today", {})
        return cls(
            loads=loads,
            today=DayTotals(
                day=str(today.get("day", "")),
                energy_kwh=float(today.get("energy_kwh", 0.0)),
                cost=float(today.get("cost", 0.0)),
            ),
            last_applied_slot=when(data.get("last_applied_slot")),
        )
