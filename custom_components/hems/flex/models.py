"""The flexibility event: one model for every source (frozen, validated).

An event asks the household to turn its import down (``down``) or up (``up``)
over a window.  What it asks is a list of `Ask` stretches covering the window:
a target (import at most / at least so many kW) and what it does to the import
price (a replacement price, e.g. 0 for free electricity, or a delta: the
reward of a turn-down is an uplift, that of a turn-up a reduction).  The
reward says what delivered energy earns; the baseline rule how the energy
the household would have used is worked out.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final, Self

from .errors import FlexEventError

MAX_ID_LENGTH: Final = 120
MAX_WINDOW: Final = timedelta(hours=24)
MAX_KW: Final = 1000.0
MAX_REWARD_P: Final = 10_000.0  # p/kWh: well above any scheme yet (about 375p)
MAX_PRICE_P: Final = 10_000.0
OCTOPOINT_PENCE: Final = 0.125  # 800 Octopoints are worth 1 pound
DEFAULT_BASELINE_DAYS: Final = 10


class Direction(StrEnum):
    """Which way the event asks import to move."""

    DOWN = "down"
    UP = "up"


class Source(StrEnum):
    """Where an event came from."""

    SERVICE = "service"
    OCTOPUS_SAVING_SESSION = "octopus_saving_session"
    OCTOPUS_FREE_ELECTRICITY = "octopus_free_electricity"
    MQTT = "mqtt"
    OPENADR = "openadr"


def utc(value: object, name: str) -> datetime:
    """Return ``value`` (a tz-aware datetime or ISO string) in UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise FlexEventError(name, f"{value!r} is not an ISO date-time") from None
    if not isinstance(value, datetime):
        raise FlexEventError(name, f"expected a date-time, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise FlexEventError(name, f"{value.isoformat()} has no time zone")
    return value.astimezone(UTC)


def number(
    value: object, name: str, *, low: float, high: float, optional: bool = True
) -> float | None:
    """Return ``value`` as a finite float in [low, high] (None if allowed)."""
    if value is None:
        if optional:
            return None
        raise FlexEventError(name, "is required")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FlexEventError(name, f"expected a number, got {type(value).__name__}")
    try:
        result = float(value)
    except ValueError:
        raise FlexEventError(name, f"{value!r} is not a number") from None
    if not math.isfinite(result):
        raise FlexEventError(name, f"{value!r} is not finite")
    if not low <= result <= high:
        raise FlexEventError(name, f"{result:g} is outside {low:g} to {high:g}")
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Ask:
    """What an event asks from ``start`` to ``end``.

    ``max_import_kw`` (turn-down) or ``min_import_kw`` (turn-up) is a target;
    ``price`` replaces the import price (p/kWh) and ``price_delta`` is added
    to it (an uplift > 0, a reduction < 0); a replacement wins over a delta.
    """

    start: datetime
    end: datetime
    max_import_kw: float | None = None
    min_import_kw: float | None = None
    price: float | None = None
    price_delta: float = 0.0

    def __post_init__(self) -> None:
        """Check the fields."""
        object.__setattr__(self, "start", utc(self.start, "start"))
        object.__setattr__(self, "end", utc(self.end, "end"))
        if self.end <= self.start:
            raise FlexEventError("end", "is not after start")
        for name in ("max_import_kw", "min_import_kw"):
            number(getattr(self, name), name, low=0.0, high=MAX_KW)
        number(self.price, "price", low=-MAX_PRICE_P, high=MAX_PRICE_P)
        number(
            self.price_delta,
            "price_delta",
            low=-MAX_PRICE_P,
            high=MAX_PRICE_P,
            optional=False,
        )

    @property
    def hours(self) -> float:
        """Return the length in hours."""
        return (self.end - self.start) / timedelta(hours=1)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "max_import_kw": self.max_import_kw,
            "min_import_kw": self.min_import_kw,
            "price": self.price,
            "price_delta": self.price_delta,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Return the ask of `as_dict` output."""
        return cls(
            start=utc(data["start"], "start"),
            end=utc(data["end"], "end"),
            max_import_kw=data.get("max_import_kw"),
            min_import_kw=data.get("min_import_kw"),
            price=data.get("price"),
            price_delta=float(data.get("price_delta", 0.0)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Reward:
    """What delivered energy earns: pence or points per kWh."""

    pence_per_kwh: float | None = None
    points_per_kwh: float | None = None
    pence_per_point: float = OCTOPOINT_PENCE

    def __post_init__(self) -> None:
        """Check the fields."""
        number(self.pence_per_kwh, "reward_p_per_kwh", low=0.0, high=MAX_REWARD_P)
        number(self.points_per_kwh, "points_per_kwh", low=0.0, high=1e6)
        number(
            self.pence_per_point,
            "pence_per_point",
            low=0.0,
            high=100.0,
            optional=False,
        )
        if self.value_p_per_kwh > MAX_REWARD_P:
            raise FlexEventError(
                "points_per_kwh", f"worth more than {MAX_REWARD_P:g} p/kWh"
            )

    @property
    def value_p_per_kwh(self) -> float:
        """Return what one delivered kWh is worth in pence."""
        pence = self.pence_per_kwh or 0.0
        return pence + (self.points_per_kwh or 0.0) * self.pence_per_point

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form."""
        return {
            "pence_per_kwh": self.pence_per_kwh,
            "points_per_kwh": self.points_per_kwh,
            "pence_per_point": self.pence_per_point,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """The scheme's baseline rule: the same half-hours of earlier days.

    The mean over the previous ``days`` matching days (weekdays for a
    weekday, weekend days for a weekend day).
    """

    days: int = DEFAULT_BASELINE_DAYS

    def __post_init__(self) -> None:
        """Check the fields."""
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise FlexEventError("baseline_days", "expected a whole number")
        if not 1 <= self.days <= 60:  # noqa: PLR2004 - the documented range
            raise FlexEventError("baseline_days", f"{self.days} is outside 1 to 60")


@dataclass(frozen=True, slots=True, kw_only=True)
class FlexEvent:
    """One turn-down or turn-up event, whatever its source."""

    id: str
    source: Source
    direction: Direction
    start: datetime
    end: datetime
    asks: tuple[Ask, ...]
    reward: Reward | None = None
    baseline: Baseline = field(default_factory=Baseline)
    title: str = ""
    # The scheme's own handle (e.g. the Octopus code to join with).
    code: str | None = None
    # Already joined at the scheme (e.g. an Octoplus session joined in the app).
    joined: bool = False

    def __post_init__(self) -> None:
        """Check the fields."""
        if not isinstance(self.id, str) or not self.id.strip():
            raise FlexEventError("id", "must be a non-empty string")
        if len(self.id) > MAX_ID_LENGTH:
            raise FlexEventError("id", f"longer than {MAX_ID_LENGTH} characters")
        try:
            object.__setattr__(self, "source", Source(self.source))
        except ValueError:
            raise FlexEventError("source", f"unknown source {self.source!r}") from None
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise FlexEventError(
                "direction", f"{self.direction!r} is not 'down' or 'up'"
            ) from None
        object.__setattr__(self, "start", utc(self.start, "start"))
        object.__setattr__(self, "end", utc(self.end, "end"))
        if self.end <= self.start:
            raise FlexEventError("end", "is not after start")
        if self.end - self.start > MAX_WINDOW:
            raise FlexEventError("end", "the window is longer than 24 hours")
        self._check_asks()

    def _check_asks(self) -> None:
        if not self.asks:
            raise FlexEventError("asks", "the event asks nothing")
        for index, ask in enumerate(self.asks):
            where = f"asks[{index}]"
            if ask.start < self.start or ask.end > self.end:
                raise FlexEventError(where, "lies outside the event's window")
            if index and ask.start < self.asks[index - 1].end:
                raise FlexEventError(where, "overlaps the one before")
            if self.direction is Direction.DOWN and ask.min_import_kw is not None:
                raise FlexEventError(
                    f"{where}.min_import_kw", "a turn-down asks at most, not at least"
                )
            if self.direction is Direction.UP and ask.max_import_kw is not None:
                raise FlexEventError(
                    f"{where}.max_import_kw", "a turn-up asks at least, not at most"
                )

    @property
    def key(self) -> str:
        """Return the id unique across sources."""
        return f"{self.source}:{self.id}"

    @property
    def hours(self) -> float:
        """Return the window's length in hours."""
        return (self.end - self.start) / timedelta(hours=1)

    def overlaps(self, other: FlexEvent) -> bool:
        """Return whether the two windows share any time."""
        return self.start < other.end and other.start < self.end

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form (stored, shown in attributes)."""
        return {
            "id": self.id,
            "source": str(self.source),
            "direction": str(self.direction),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "asks": [ask.as_dict() for ask in self.asks],
            "reward": self.reward.as_dict() if self.reward else None,
            "baseline_days": self.baseline.days,
            "title": self.title,
            "code": self.code,
            "joined": self.joined,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Return the event of `as_dict` output (raises `FlexEventError`)."""
        reward = data.get("reward")
        return cls(
            id=data["id"],
            source=data["source"],
            direction=data["direction"],
            start=utc(data["start"], "start"),
            end=utc(data["end"], "end"),
            asks=tuple(Ask.from_dict(ask) for ask in data["asks"]),
            reward=Reward(**reward) if reward else None,
            baseline=Baseline(days=data.get("baseline_days", DEFAULT_BASELINE_DAYS)),
            title=str(data.get("title", "")),
            code=data.get("code"),
            joined=bool(data.get("joined", False)),
        )
