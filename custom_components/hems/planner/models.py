"""Data model of a planning problem, the decisions and the resulting plan.

All datetimes are timezone-aware UTC; prices are p/kWh, powers kW, energies kWh.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Literal


class BatteryMode(StrEnum):
    """What the battery does in one slot."""

    FORCE_CHARGE = "force_charge"
    NORMAL = "normal"
    CHARGE_ONLY = "charge_only"
    FORCE_DISCHARGE = "force_discharge"


DEFAULT_MODES = (BatteryMode.NORMAL, BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_CHARGE)
type Control = Literal["modes", "power"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Slot:
    """One slot of the horizon; ``price`` is ``None`` while it is not known.

    ``export_price`` is what exported energy earns, p/kWh (``None``: nothing).
    ``max_import_kw`` (a turn-down target) and ``min_import_kw`` (a turn-up
    target) are what the plan aims for in the slot: each kWh of net import
    (before curtailment) above the one or below the other adds
    ``TARGET_WEIGHT`` (100 p) to the plan's objective (not to its cost), so
    they are met wherever a kWh costs less than that.
    """

    start: datetime
    price: float | None
    export_price: float | None = None
    max_import_kw: float | None = None
    min_import_kw: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """A half-open time window [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class InterruptibleLoad:
    """Constant power for ``slots`` slots anywhere in its window.

    Only slots priced at or below ``max_price`` are eligible.  Every eligible
    slot priced at or below ``opportunistic_price`` is run as well.
    """

    id: str
    power_kw: float
    slots: int
    window: Window | None = None
    max_price: float | None = None
    opportunistic_price: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CycleLoad:
    """A non-interruptible cycle drawing ``profile_kwh[i]`` in its i-th slot."""

    id: str
    profile_kwh: tuple[float, ...]
    window: Window | None = None
    max_cost: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Battery:
    """A home battery: a :class:`BatteryMode` per slot, or a power setpoint.

    ``control="modes"``: the planner picks one of ``modes`` per slot and the
    inverter behaves as the mode says; ``control="power"``: any charge or
    discharge power per slot (``modes`` is then unused).
    """

    id: str
    capacity_kwh: float
    soc_kwh: float
    min_soc_kwh: float = 0.0
    charge_kw: float
    discharge_kw: float
    efficiency: float = 1.0
    control: Control = "modes"
    modes: tuple[BatteryMode, ...] = DEFAULT_MODES


type Load = InterruptibleLoad | CycleLoad | Battery


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """Everything the planner needs: prices, site and loads."""

    slot_minutes: int = 30
    slots: tuple[Slot, ...]
    base_load_kw: tuple[float, ...] | float = 0.0
    import_limit_kw: float | None = None
    loads: tuple[Load, ...] = ()
    pv_kw: tuple[float, ...] | float = 0.0
    export_limit_kw: float | None = None

    @property
    def slot_hours(self) -> float:
        """Length of one slot in hours."""
        return self.slot_minutes / 60

    @property
    def slot_length(self) -> timedelta:
        """Length of one slot."""
        return timedelta(minutes=self.slot_minutes)

    @property
    def prices(self) -> list[float]:
        """Price of every slot, p/kWh (0 where unknown: it adds nothing to a cost)."""
        return [0.0 if slot.price is None else slot.price for slot in self.slots]

    @property
    def priced(self) -> tuple[bool, ...]:
        """Whether each slot's price is known."""
        return tuple(slot.price is not None for slot in self.slots)

    @property
    def base_kw(self) -> list[float]:
        """Base load of every slot, kW."""
        if isinstance(self.base_load_kw, tuple):
            return list(self.base_load_kw)
        return [float(self.base_load_kw)] * len(self.slots)

    @property
    def pv_kwh(self) -> list[float]:
        """Forecast PV generation of every slot, kWh."""
        if isinstance(self.pv_kw, tuple):
            return [kw * self.slot_hours for kw in self.pv_kw]
        return [float(self.pv_kw) * self.slot_hours] * len(self.slots)

    @property
    def export_prices(self) -> list[float]:
        """Export price of every slot, p/kWh (0 where none, or unpriced)."""
        return [
            0.0
            if slot.price is None or slot.export_price is None
            else slot.export_price
            for slot in self.slots
        ]

    @property
    def export_cap_kwh(self) -> float:
        """Most energy a slot may export, kWh (``inf`` without an export limit)."""
        if self.export_limit_kw is None:
            return math.inf
        return self.export_limit_kw * self.slot_hours

    @property
    def import_ceilings_kwh(self) -> list[float] | None:
        """Each slot's own import cap, kWh (``inf`` where none; ``None``: no slot)."""
        if all(s.max_import_kw is None for s in self.slots):
            return None
        dt = self.slot_hours
        return [
            math.inf if s.max_import_kw is None else s.max_import_kw * dt
            for s in self.slots
        ]

    @property
    def import_floors_kwh(self) -> list[float] | None:
        """Target net import per slot, kWh (``-inf`` where none; ``None``: no slot)."""
        if all(s.min_import_kw is None for s in self.slots):
            return None
        dt = self.slot_hours
        return [
            -math.inf if s.min_import_kw is None else s.min_import_kw * dt
            for s in self.slots
        ]

    @property
    def has_pv(self) -> bool:
        """Whether any slot has PV generation."""
        pv = self.pv_kw
        return any(kw > 0 for kw in pv) if isinstance(pv, tuple) else pv > 0

    @property
    def can_export(self) -> bool:
        """Whether any plan can export: PV, or a battery that may discharge to the grid.

        Without, every plan imports in every slot and the semantics are those
        of a house without PV (net import = demand + charge - discharge >= 0).
        """
        return self.has_pv or any(
            isinstance(load, Battery)
            and (load.control == "power" or BatteryMode.FORCE_DISCHARGE in load.modes)
            for load in self.loads
        )

    @property
    def end(self) -> datetime:
        """End of the last slot."""
        return self.slots[-1].start + self.slot_length


@dataclass(frozen=True, kw_only=True, slots=True)
class Decisions:
    """What every load does: on/off per slot, a cycle start, the battery's steering.

    A mode-controlled battery has a mode per slot (``mode``), a
    power-controlled one a setpoint per slot (``power``, kW at the battery's
    grid side: + charging, - discharging).
    """

    on: Mapping[str, tuple[bool, ...]] = field(default_factory=dict)
    start: Mapping[str, int | None] = field(default_factory=dict)
    mode: Mapping[str, tuple[BatteryMode, ...]] = field(default_factory=dict)
    power: Mapping[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanation:
    """Why a load runs when it does, and what that costs."""

    summary: str
    cost: float
    energy_kwh: float
    shortfall_slots: int = 0
    deferred: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """The decisions for a problem with their simulated cost."""

    problem: Problem
    decisions: Decisions
    cost: float
    net_import_kw: tuple[float, ...]
    soc_kwh: tuple[float, ...]
    explain: Mapping[str, Explanation]
    method: str
    import_kwh: tuple[float, ...] = ()
    export_kwh: tuple[float, ...] = ()
    curtailed_kwh: tuple[float, ...] = ()
    sun: str = ""  # what the sun does in the plan (empty without PV)
    limit_violation_kwh: float = 0.0
    import_shortfall_kwh: float = 0.0  # net import below the slots' minimums
    import_excess_kwh: float = 0.0  # net import above the slots' own caps
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    # Proven optimal, or stopped by the deadline or memory ceiling: then
    # ``bound`` is a proven lower bound on the optimum's cost (``None`` if none
    # was proven) and ``gap`` = cost - bound (p), ``relative_gap`` = gap / |cost|.
    optimal: bool = True
    bound: float | None = None
    gap: float | None = 0.0
    relative_gap: float | None = 0.0
