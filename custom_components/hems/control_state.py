"""What hems remembers between restarts about running its loads (pure).

Restoring is forgiving: a stored value that cannot be trusted (wrong type, a
time without a time zone, a number that is not finite) is dropped on its own,
named in ``ControlState.from_dict``'s list of problems, and the rest is kept.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
import math
from typing import Any

from .plan_totals import DayParts
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
    diverted_kwh: float = 0.0  # of energy_kwh: taken from PV surplus by diversion


@dataclass(slots=True, kw_only=True)
class LoadState:
    """Runtime state of one load."""

    automatic: bool = True
    # Half-hours delivered per window instance (fractional: 25 minutes = 0.83).
    runs: dict[str, float] = field(default_factory=dict)
    cycle_starts: dict[str, datetime] = field(default_factory=dict)
    # Fraction of each half-hour the load really ran, by slot start (ISO, UTC).
    ran: dict[str, float] = field(default_factory=dict)
    # Since when the device has been seen on and not yet booked.
    on_since: datetime | None = None
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
    # The whole house's figures of today's half-hours that passed, as planned.
    today_parts: DayParts = field(default_factory=DayParts)
    last_applied_slot: datetime | None = None
    # Cycles and open runs are booked up to this time.
    metered_until: datetime | None = None
    diversion_enabled: bool = True

    def load(self, load_id: str) -> LoadState:
        """Return (creating if needed) the state of a load."""
        return self.loads.setdefault(load_id, LoadState())

    def prune(self, before: datetime) -> None:
        """Forget bookkeeping of windows and slots that started before ``before``."""
        cutoff = before.strftime("%Y-%m-%dT%H:%MZ")
        for state in self.loads.values():
            state.runs = {key: n for key, n in state.runs.items() if key >= cutoff}
            state.cycle_starts = {
                key: when for key, when in state.cycle_starts.items() if key >= cutoff
            }
            state.ran = {key: n for key, n in state.ran.items() if key >= cutoff}

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "last_applied_slot": _iso(self.last_applied_slot),
            "metered_until": _iso(self.metered_until),
            "diversion_enabled": self.diversion_enabled,
            "today": {
                "day": self.today.day,
                "energy_kwh": self.today.energy_kwh,
                "cost": self.today.cost,
                "diverted_kwh": self.today.diverted_kwh,
            },
            "today_parts": self.today_parts.as_dict(),
            "loads": {
                load_id: {
                    "automatic": state.automatic,
                    "runs": state.runs,
                    "cycle_starts": {
                        k: v.isoformat() for k, v in state.cycle_starts.items()
                    },
                    "ran": state.ran,
                    "on_since": _iso(state.on_since),
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
    def from_dict(cls, data: Any) -> tuple[ControlState, list[str]]:
        """Restore what can be trusted; return it and what was dropped (and why)."""
        reader = _Reader()
        if not isinstance(data, Mapping):
            reader.drop("state", data, "not a mapping")
            return cls(), reader.dropped
        loads = {}
        stored_loads = data.get("loads", {})
        if not isinstance(stored_loads, Mapping):
            reader.drop("state.loads", stored_loads, "not a mapping")
            stored_loads = {}
        for load_id, item in stored_loads.items():
            where = f"state.loads.{load_id}"
            if not isinstance(item, Mapping):
                reader.drop(where, item, "not a mapping")
                continue
            loads[str(load_id)] = reader.load_state(where, item)
        today = data.get("today", {})
        if not isinstance(today, Mapping):
            reader.drop("state.today", today, "not a mapping")
            today = {}
        totals = DayTotals(
            day=str(today.get("day", "")),
            energy_kwh=reader.number("state.today.energy_kwh", today.get("energy_kwh")),
            cost=reader.number("state.today.cost", today.get("cost")),
            diverted_kwh=reader.number(
                "state.today.diverted_kwh", today.get("diverted_kwh")
            ),
        )
        state = cls(
            loads=loads,
            today=totals,
            today_parts=DayParts.from_dict(data.get("today_parts")),
            last_applied_slot=reader.when(
                "state.last_applied_slot", data.get("last_applied_slot")
            ),
            metered_until=reader.when("state.metered_until", data.get("metered_until")),
            diversion_enabled=data.get("diversion_enabled", True) is not False,
        )
        return state, reader.dropped


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class _Reader:
    """Reads stored values one by one, keeping a list of what it had to drop."""

    def __init__(self) -> None:
        self.dropped: list[str] = []

    def drop(self, where: str, value: Any, why: str) -> None:
        shown = repr(value)
        self.dropped.append(
            f"{where} = {shown[:60]}{'...' if len(shown) > 60 else ''}: {why}"  # noqa: PLR2004
        )

    def when(self, where: str, value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except TypeError, ValueError:
            self.drop(where, value, "not a time")
            return None
        if moment.utcoffset() is None:
            self.drop(where, value, "a time without a time zone")
            return None
        return moment

    def number(self, where: str, value: Any, default: float = 0.0) -> float:
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.drop(where, value, "not a finite number")
            return default
        return float(value)

    def numbers(self, where: str, value: Any) -> dict[str, float]:
        if not isinstance(value, Mapping):
            if value is not None:
                self.drop(where, value, "not a mapping")
            return {}
        result: dict[str, float] = {}
        for key, item in value.items():
            number = self.number(f"{where}.{key}", item, default=math.nan)
            if not math.isnan(number) and number >= 0:
                result[str(key)] = number
        return result

    def times(self, where: str, value: Any) -> dict[str, datetime]:
        if not isinstance(value, Mapping):
            if value is not None:
                self.drop(where, value, "not a mapping")
            return {}
        result = {}
        for key, item in value.items():
            if (moment := self.when(f"{where}.{key}", item)) is not None:
                result[str(key)] = moment
        return result

    def load_state(self, where: str, item: Mapping[str, Any]) -> LoadState:
        override = None
        if (stored := item.get("override")) is not None:
            until = (
                self.when(f"{where}.override.until", stored.get("until"))
                if isinstance(stored, Mapping)
                else None
            )
            if isinstance(stored, Mapping) and until is not None:
                override = Override(state=str(stored.get("state")), until=until)
            elif not isinstance(stored, Mapping):
                self.drop(f"{where}.override", stored, "not a mapping")
        requirement = None
        if (stored := item.get("requirement")) is not None:
            if isinstance(stored, Mapping):
                by = self.when(f"{where}.requirement.by", stored.get("by"))
                since = self.when(f"{where}.requirement.since", stored.get("since"))
                hours = self.number(f"{where}.requirement.hours", stored.get("hours"))
                if by is not None and since is not None and 0 < hours <= 48:  # noqa: PLR2004
                    requirement = Requirement(hours=hours, by=by, since=since)
            else:
                self.drop(f"{where}.requirement", stored, "not a mapping")
        applied = item.get("applied")
        return LoadState(
            automatic=bool(item.get("automatic", True)),
            runs=self.numbers(f"{where}.runs", item.get("runs")),
            cycle_starts=self.times(f"{where}.cycle_starts", item.get("cycle_starts")),
            ran=self.numbers(f"{where}.ran", item.get("ran")),
            on_since=self.when(f"{where}.on_since", item.get("on_since")),
            applied=applied if isinstance(applied, str) else None,
            override=override,
            requirement=requirement,
        )
