"""Live PV surplus diversion between the half-hour plan steps (pure).

A grid power reading (kW, import positive) arrives every few seconds. When
the house has been exporting more than a load's power for ``dwell``, that
load is switched on, in the user's priority order, one load at a time; when
the house has been importing for ``dwell`` and a diverted load has run at
least ``min_on``, the diverted load of lowest priority is switched off again.
A load switched off waits ``min_off`` before it may be diverted again. The
plan's own runs are never touched: diversion only adds running time, and
only to loads that are free now (automatic, not overridden, not switched by
hand) and not already on.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class DivertLoad:
    """A load that may take PV surplus: its power and priority (1 first)."""

    id: str
    power_kw: float
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DiversionSettings:
    """How patient and how careful the diverter is."""

    dwell: timedelta = timedelta(minutes=2)
    min_on: timedelta = timedelta(minutes=5)
    min_off: timedelta = timedelta(minutes=5)
    margin_kw: float = 0.1  # export beyond the load's power, import beyond zero


@dataclass(frozen=True, slots=True)
class Decision:
    """Loads to switch on and off now (at most one of each)."""

    on: str | None = None
    off: str | None = None


@dataclass(slots=True)
class Diverter:
    """Decides, reading by reading, which loads take the surplus."""

    loads: tuple[DivertLoad, ...]
    settings: DiversionSettings = field(default_factory=DiversionSettings)
    diverted: dict[str, datetime] = field(default_factory=dict)  # id -> on since
    _stopped: dict[str, datetime] = field(default_factory=dict)
    _surplus_since: dict[str, datetime] = field(default_factory=dict)
    _import_since: datetime | None = None

    def __post_init__(self) -> None:
        """Keep the loads in priority order (ties: as given)."""
        self.loads = tuple(sorted(self.loads, key=lambda load: load.priority))

    def update(
        self,
        now: datetime,
        grid_kw: float,
        free: Iterable[str],
        limit_kw: float | None = None,
    ) -> Decision:
        """Return what to switch after a reading of ``grid_kw`` at ``now``.

        ``free`` are the loads that may be switched on now (off, automatic,
        not overridden or switched by hand, not planned on in this slot).
        Above ``limit_kw`` (the site's import limit) a diverted load goes at
        once, whatever its dwell and minimum times.
        """
        if limit_kw is not None and grid_kw > limit_kw:
            return self._shed(now, at_once=True)
        if grid_kw > self.settings.margin_kw:
            self._surplus_since.clear()
            self._import_since = self._import_since or now
            if now - self._import_since >= self.settings.dwell:
                return self._shed(now)
            return Decision()
        self._import_since = None
        return self._take(now, -grid_kw, set(free))

    def _shed(self, now: datetime, *, at_once: bool = False) -> Decision:
        """Switch off the diverted load of lowest priority that may go."""
        for load in reversed(self.loads):
            since = self.diverted.get(load.id)
            if since is not None and (at_once or now - since >= self.settings.min_on):
                return self._stop(load.id, now)
        return Decision()

    def _take(self, now: datetime, export: float, free: set[str]) -> Decision:
        """Switch on the first free load the surplus has covered long enough."""
        settings = self.settings
        for load in self.loads:
            stopped = self._stopped.get(load.id)
            if (
                load.id in self.diverted
                or load.id not in free
                or (stopped is not None and now - stopped < settings.min_off)
                or export < load.power_kw + settings.margin_kw
            ):
                self._surplus_since.pop(load.id, None)
                continue
            since = self._surplus_since.setdefault(load.id, now)
            if now - since >= settings.dwell:
                self.diverted[load.id] = now
                self._surplus_since.clear()
                return Decision(on=load.id)
            return Decision()  # the first load waits: none below it jumps ahead
        return Decision()

    def release(self, load_id: str, now: datetime) -> None:
        """Forget a diverted load the plan or a person took over."""
        if self.diverted.pop(load_id, None) is not None:
            self._stopped[load_id] = now

    def _stop(self, load_id: str, now: datetime) -> Decision:
        self.diverted.pop(load_id, None)
        self._stopped[load_id] = now
        self._import_since = None
        return Decision(off=load_id)
