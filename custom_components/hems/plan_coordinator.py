"""The plan coordinator: re-plans when something changed, applies each slot.

Planning and switching are separate: a plan is computed (in an executor
thread) under ``_plan_lock`` and installed as soon as it is ready, then the
current half-hour is applied under ``_apply_lock``. A half-hour that begins
while a plan is being computed is applied at once with the plan in force, and
again when the new plan lands, so a slow plan never leaves a slot unapplied.
What ran is booked from what the devices showed (``metering.py``).
"""

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, override
from zoneinfo import ZoneInfo

from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_utc_time_change,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .actuation import (
    OFF,
    ON,
    ActuationError,
    EntitySwitch,
    LoadActuator,
    build_actuator,
    power_state,
)
from .const import (
    CONF_BASE_LOAD,
    CONF_BASE_LOAD_ENTITY,
    CONF_GAS_PRICE,
    CONF_GRID_EXPORT_POSITIVE,
    CONF_GRID_POWER_ENTITY,
    CONF_IMPORT_LIMIT,
    DOMAIN,
    EVENT_DIVERT_STARTED,
    EVENT_DIVERT_STOPPED,
    EVENT_LOAD_STARTED,
    EVENT_LOAD_STOPPED,
    EVENT_PLAN_UPDATED,
    LOGGER,
    SOC_DRIFT_KWH,
    STORAGE_VERSION,
)
from .control_state import ControlState, DayTotals, Override, Requirement
from .coordinator import HemsPriceCoordinator
from .diversion import Diverter, DivertLoad
from .export_settings import ExportSettings
from .flex import FlexEvent, slot_targets
from .limit_report import limit_report
from .load_config import (
    BatteryConfig,
    BatteryControl,
    CycleConfig,
    InterruptibleConfig,
    LoadConfig,
)
from .metering import DayBook, book_cycles, book_run
from .plan_totals import Planned, PlannedTotals, planned_from
from .planner import BatteryMode, plan
from .price_data import slot_start
from .prices import SLOT, PriceSlot
from .scheduling import (
    RUN_TOLERANCE,
    BuiltProblem,
    Progress,
    Schedule,
    SiteState,
    build_problem,
    instance_at,
    keep_current_slot,
    next_instance,
    schedule_from_plan,
)
from .site_readings import power_kw, signed_power_kw, state_of_charge_kwh
from .storage import StoreDataError, async_load_store

if TYPE_CHECKING:
    from . import HemsConfigEntry

UNAVAILABLE_STATES = (STATE_UNAVAILABLE, STATE_UNKNOWN)
# A plan runs in an executor thread of Home Assistant's process (on a
# Raspberry Pi on fleet boxes): past these it is the best found so far, with
# its proven gap in the plan's notes.
PLAN_TIME_LIMIT_S = 30.0
PLAN_MEMORY_LIMIT_MB = 256.0
# A solar forecast that moved by more than this in a half-hour re-plans.
PV_CHANGE_KW = 0.05


class HemsPlanCoordinator(DataUpdateCoordinator[Schedule | None]):
    """Owns the plan, the loads' runtime state and their actuators."""

    config_entry: HemsConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: HemsConfigEntry,
        prices: HemsPriceCoordinator,
        loads: Mapping[str, LoadConfig],
    ) -> None:
        """Initialise with the price coordinator and the configured loads."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN}_plan",
            update_interval=None,
            always_update=True,
        )
        self.prices = prices
        self.loads = dict(loads)
        self.tz = ZoneInfo(hass.config.time_zone)
        self.state = ControlState()
        self.actuators: dict[str, LoadActuator] = {
            load_id: build_actuator(hass, load.actuator)
            for load_id, load in self.loads.items()
        }
        self.actuator_errors: dict[str, str] = {}
        self.last_error: str | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{config_entry.entry_id}.plan"
        )
        self._unsubs: list[Callable[[], None]] = []
        self._unsub_entities: Callable[[], None] | None = None
        self._plan_lock = asyncio.Lock()
        self._apply_lock = asyncio.Lock()
        # Contexts of hems's own service calls: a state change in another
        # context was made by someone else (a person, an automation).
        self._contexts: deque[str] = deque(maxlen=256)
        # Loads switched by hand: left alone until the end of that half-hour.
        self.manual_until: dict[str, datetime] = {}
        self._reading_problems: dict[str, str] = {}
        self.diverter = self._new_diverter()
        self._planned_need: dict[str, float] = {}
        # The learnt base load (kW) of a half-hour, None where not learnt: set
        # by the house-load coordinator (site_inputs.py).
        self.base_load_at: Callable[[datetime], float | None] | None = None
        # Export prices, when the options name a source (set by the entry).
        self.export_prices: HemsPriceCoordinator | None = None
        # Accepted flexibility events applied to the import prices (flex_manager).
        self.flex_prices: (
            Callable[[Sequence[PriceSlot]], Sequence[PriceSlot]] | None
        ) = None
        # The accepted events themselves: their caps and minimums are planned.
        self.flex_accepted: Callable[[], Sequence[FlexEvent]] | None = None
        # The solar forecast (kW) of half-hours (set by the entry).
        self.pv_kw_at: Callable[[Sequence[datetime]], Sequence[float]] | None = None
        # A re-plan asked for while one runs is made once more when it ends
        # (never dropped: the running one may have read older inputs).
        self._replan_task: asyncio.Task[None] | None = None
        self._replan_again = False
        self._stopping = False

    # --- set-up and tear-down -------------------------------------------------

    @override
    async def _async_setup(self) -> None:
        """Restore the plan and runtime state, then start listening."""
        await self._async_restore()
        for load_id in self.loads:
            self.state.load(load_id)
        self._settle_after_restart()
        self._unsubs.append(self.prices.async_add_listener(self._prices_updated))
        self._unsubs.append(
            async_track_utc_time_change(
                self.hass, self._async_boundary, minute=(0, 30), second=0
            )
        )
        self._track_entities()

    async def _async_restore(self) -> None:
        """Load what was stored; whatever cannot be trusted is dropped and said."""
        restored, _ = await async_load_store(self.hass, self._store, _parse_stored)
        if restored is not None:
            self.state, self.data = restored

    def _settle_after_restart(self) -> None:
        """Close runs left open by a restart whose device is no longer seen on."""
        book = DayBook(self.state.today, self.tz)
        until = self.state.metered_until
        for load in self.loads.values():
            state = self.state.load(load.id)
            if not isinstance(load, InterruptibleConfig) or state.on_since is None:
                continue
            if self._device_on(load):
                continue  # still on: it ran through the restart, booked next time
            if until is not None and until > state.on_since:
                book_run(
                    load,
                    state,
                    state.on_since,
                    until,
                    tz=self.tz,
                    price_at=self._price_at,
                    book=book,
                )
            state.on_since = None
        self.state.today = book.totals

    @callback
    def _track_entities(self) -> None:
        """Follow the actuators' and sensors' states (again after a rename)."""
        if self._unsub_entities is not None:
            self._unsub_entities()
            self._unsub_entities = None
        devices = {
            load.actuator.entity_id
            for load in self.loads.values()
            if load.actuator.entity_id and not isinstance(load, BatteryConfig)
        }
        socs = {
            load.soc_entity
            for load in self.loads.values()
            if isinstance(load, BatteryConfig) and load.soc_entity
        } | {
            load.car_soc_entity
            for load in self.loads.values()
            if isinstance(load, InterruptibleConfig) and load.car_soc_entity
        }
        grid_entity = self.config_entry.options.get(CONF_GRID_POWER_ENTITY)
        grid = {str(grid_entity)} if grid_entity else set()
        if watched := sorted(devices | socs | grid):
            self._unsub_entities = async_track_state_change_event(
                self.hass, watched, self._async_entity_changed
            )

    async def async_start(self) -> None:
        """Plan if needed and apply the current slot at once (after a restart)."""
        now = dt_util.utcnow()
        if self._replan_reasons(now):
            await self.async_replan()
        else:
            await self.async_apply(now)

    @override
    async def async_shutdown(self) -> None:
        """Book what ran, stop listening and release hardware."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._unsub_entities is not None:
            self._unsub_entities()
            self._unsub_entities = None
        self._stopping = True
        self._meter(dt_util.utcnow())
        await self._async_save()
        for actuator in self.actuators.values():
            await actuator.async_close()
        await super().async_shutdown()

    # --- triggers -------------------------------------------------------------

    @callback
    def _prices_updated(self) -> None:
        """Re-plan when a price the plan uses changed or a new one is known."""
        if self.data is None or self._prices_differ(dt_util.utcnow()):
            self.hass.async_create_task(self.async_request_replan())

    def _prices_differ(self, now: datetime) -> bool:
        """Return whether the known prices from now on differ from the plan's."""
        schedule = self.data
        if schedule is None:
            return True
        known = {
            slot.start: slot.value for slot in self._import_slots() if slot.end > now
        }
        planned = {
            start: price
            for start, price in zip(schedule.slot_starts, schedule.prices, strict=True)
            if start + SLOT > now and price is not None
        }
        return known != planned

    async def _async_boundary(self, now: datetime) -> None:
        """Book the slot that ended; re-plan if it went off plan; apply the next."""
        self._meter(now)
        self._hand_diverted_to_the_plan(now)
        reasons = self._replan_reasons(now)
        if not reasons or self._plan_lock.locked():
            # The plan in force is applied now; a plan still being computed is
            # applied the moment it lands.
            await self.async_apply(now)
        if reasons:
            LOGGER.debug("Re-planning at %s: %s", now, "; ".join(reasons))
            await self.async_replan()

    def _replan_reasons(self, now: datetime) -> list[str]:
        """Say why the plan in force no longer fits (empty: it still does)."""
        schedule = self.data
        if schedule is None or schedule.index(now) is None:
            return ["no plan for this half-hour"]
        reasons = []
        if self._prices_differ(now):
            reasons.append("prices changed")
        reasons.extend(self.inputs_differ(now))
        built = self._build(now, slot_start(now))
        if built is not None and (new := built.considered - schedule.considered):
            reasons.append("windows to plan: " + ", ".join(sorted(new)))
        reasons.extend(self._deviations(slot_start(now) - SLOT))
        return reasons

    def _deviations(self, slot: datetime) -> list[str]:
        """Return the loads whose half-hour ``slot`` did not go as planned."""
        schedule = self.data
        index = schedule.index(slot) if schedule else None
        if schedule is None or index is None:
            return []
        key = slot.strftime("%Y-%m-%dT%H:%MZ")
        found = []
        for load in self.loads.values():
            planned = schedule.loads.get(load.id)
            if planned is None:
                continue
            state = self.state.load(load.id)
            if isinstance(load, InterruptibleConfig):
                ran = state.ran.get(key, 0.0)
                if planned.on[index] and ran < 1 - RUN_TOLERANCE:
                    found.append(f"{load.name} ran {ran:.0%} of a planned half-hour")
                elif not planned.on[index] and ran > RUN_TOLERANCE:
                    found.append(f"{load.name} ran {ran:.0%} of an unplanned half-hour")
            elif isinstance(load, CycleConfig):
                found.extend(
                    f"{load.name} did not start"
                    for window in planned.windows
                    if window.cycle_start == slot
                    and window.key not in state.cycle_starts
                )
        return found

    async def _async_entity_changed(self, event: Event[EventStateChangedData]) -> None:
        """Book, notice hand-switching, retry or re-plan when a device changes."""
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        now = dt_util.utcnow()
        if entity_id == self.config_entry.options.get(CONF_GRID_POWER_ENTITY):
            await self._async_grid_changed(now)
            return
        if any(
            isinstance(load, BatteryConfig) and load.soc_entity == entity_id
            for load in self.loads.values()
        ):
            await self._async_soc_changed(entity_id, now)
        if any(
            isinstance(load, InterruptibleConfig) and load.car_soc_entity == entity_id
            for load in self.loads.values()
        ):
            await self._async_car_soc_changed(now)
        devices = [
            load
            for load in self.loads.values()
            if load.actuator.entity_id == entity_id
            and not isinstance(load, BatteryConfig)
        ]
        if not devices:
            return
        self._meter(now)
        returned = (old is None or old.state in UNAVAILABLE_STATES) and (
            new is not None and new.state not in UNAVAILABLE_STATES
        )
        if new is not None and not returned and new.context.id not in self._contexts:
            for load in devices:
                wanted = self.desired(load, now)
                if (
                    isinstance(load, InterruptibleConfig)
                    and wanted is not None
                    and (new.state == STATE_ON) != (wanted == ON)
                ):
                    until = slot_start(now) + SLOT
                    self.manual_until[load.id] = until
                    self._stop_diverting(load, now)
                    LOGGER.info(
                        "%s was switched %s by hand: hems leaves it so until %s",
                        load.name,
                        new.state,
                        until.astimezone(self.tz).strftime("%H:%M"),
                    )
        if returned:
            LOGGER.debug("%s is back: applying the plan", entity_id)
            await self.async_apply(now)
        else:
            self._store.async_delay_save(self._stored, 10)
            self.async_update_listeners()

    async def _async_soc_changed(self, entity_id: str, now: datetime) -> None:
        """Re-plan when a battery's state of charge drifted from the plan."""
        for load in self.loads.values():
            if not isinstance(load, BatteryConfig) or load.soc_entity != entity_id:
                continue
            actual = self._battery_soc(load)
            expected = self._planned_soc(load, now)
            if (
                actual is not None
                and expected is not None
                and abs(actual - expected) > SOC_DRIFT_KWH
            ):
                LOGGER.debug(
                    "%s: SoC %.2f kWh, plan expected %.2f: re-planning",
                    load.name,
                    actual,
                    expected,
                )
                await self.async_request_replan()
                return

    # --- live PV surplus diversion --------------------------------------------

    def _new_diverter(self) -> Diverter | None:
        """Return the diverter of the loads with a solar priority, if any."""
        loads = tuple(
            DivertLoad(
                id=load.id, power_kw=load.power_kw, priority=load.divert_priority
            )
            for load in self.loads.values()
            if isinstance(load, InterruptibleConfig)
            and load.divert_priority is not None
        )
        if not loads or not self.config_entry.options.get(CONF_GRID_POWER_ENTITY):
            return None
        return Diverter(loads)

    def refresh_site(self) -> None:
        """Take new site options (the grid sensor) into account."""
        self.diverter = self._new_diverter()
        self._track_entities()

    def _diverting(self, load_id: str) -> bool:
        return self.diverter is not None and load_id in self.diverter.diverted

    def _divert_free(self, now: datetime) -> list[str]:
        """Return the loads diversion may switch on now."""
        free = []
        for load in self.loads.values():
            if (
                not isinstance(load, InterruptibleConfig)
                or load.divert_priority is None
            ):
                continue
            state = self.state.load(load.id)
            if (
                state.automatic
                and state.override is None
                and self.manual_until.get(load.id, now) <= now
                and load.id not in self.actuator_errors
                and self.desired(load, now) == OFF
                and not self._device_on(load)
            ):
                free.append(load.id)
        return free

    async def _async_grid_changed(self, now: datetime) -> None:
        """Take or give back PV surplus after a new grid power reading."""
        if self.diverter is None or not self.state.diversion_enabled:
            return
        entity_id = self.config_entry.options[CONF_GRID_POWER_ENTITY]
        reading = signed_power_kw(self.hass, entity_id)
        self._note_reading("grid_power", reading.problem)
        if reading.value is None:
            return
        grid_kw = reading.value
        if self.config_entry.options.get(CONF_GRID_EXPORT_POSITIVE):
            grid_kw = -grid_kw
        self._meter(now)
        limit = self.config_entry.options.get(CONF_IMPORT_LIMIT)
        decision = self.diverter.update(
            now, grid_kw, self._divert_free(now), float(limit) if limit else None
        )
        for load_id, event in (
            (decision.on, EVENT_DIVERT_STARTED),
            (decision.off, EVENT_DIVERT_STOPPED),
        ):
            if load_id is None or load_id not in self.loads:
                continue
            load = self.loads[load_id]
            LOGGER.info(
                "%s %s PV surplus (grid %.2f kW)",
                load.name,
                "takes" if event == EVENT_DIVERT_STARTED else "leaves",
                grid_kw,
            )
            self.hass.bus.async_fire(
                event, {"load": load.name, "load_id": load.id, "grid_kw": grid_kw}
            )
        if decision.on or decision.off:
            await self.async_apply(now)

    def _stop_diverting(self, load: LoadConfig, now: datetime) -> None:
        """Stop diverting to a load someone else now decides about."""
        if self.diverter is not None and load.id in self.diverter.diverted:
            self._meter(now)
            self.diverter.release(load.id, now)
            self.hass.bus.async_fire(
                EVENT_DIVERT_STOPPED, {"load": load.name, "load_id": load.id}
            )

    def _hand_diverted_to_the_plan(self, now: datetime) -> None:
        """Give the plan back the diverted loads it runs in this half-hour."""
        schedule = self.data
        index = schedule.index(now) if schedule else None
        if self.diverter is None or schedule is None or index is None:
            return
        for load_id in list(self.diverter.diverted):
            plan = schedule.loads.get(load_id)
            if plan is not None and plan.on[index] and load_id in self.loads:
                self._stop_diverting(self.loads[load_id], now)

    async def async_set_diversion(self, enabled: bool) -> None:
        """Turn live PV surplus diversion on or off (off gives back what it took)."""
        self.state.diversion_enabled = enabled
        if not enabled and self.diverter is not None:
            now = dt_util.utcnow()
            for load_id in list(self.diverter.diverted):
                if load_id in self.loads:
                    self._stop_diverting(self.loads[load_id], now)
        await self.async_apply()

    async def async_put_load(self, load: LoadConfig) -> None:
        """Add a load, or replace its settings (its actuator is made anew)."""
        if (actuator := self.actuators.pop(load.id, None)) is not None:
            await actuator.async_close()
        self.loads[load.id] = load
        self.actuators[load.id] = build_actuator(self.hass, load.actuator)
        self.state.load(load.id)
        self._actuator_ok(load)
        self.diverter = self._new_diverter()
        self._track_entities()

    async def async_remove_load(self, load_id: str) -> None:
        """Stop planning and switching a load (its device is released)."""
        load = self.loads.pop(load_id, None)
        if (actuator := self.actuators.pop(load_id, None)) is not None:
            await actuator.async_close()
        if load is not None:
            self._actuator_ok(load)
        self.state.loads.pop(load_id, None)
        self.manual_until.pop(load_id, None)
        self.diverter = self._new_diverter()
        self._track_entities()

    # --- planning -------------------------------------------------------------

    def _site(self) -> SiteState:
        options = self.config_entry.options
        base = float(options.get(CONF_BASE_LOAD) or 0.0)
        if entity_id := options.get(CONF_BASE_LOAD_ENTITY):
            reading = power_kw(self.hass, entity_id)
            self._note_reading("base_load", reading.problem)
            if reading.value is not None:
                base = reading.value
        socs = {}
        for load in self.loads.values():
            if isinstance(load, BatteryConfig):
                soc = self._battery_soc(load)
                if soc is None:
                    soc = self._planned_soc(load, dt_util.utcnow())
                if soc is not None:
                    socs[load.id] = soc
        limit = (
            float(options[CONF_IMPORT_LIMIT])
            if options.get(CONF_IMPORT_LIMIT)
            else None
        )
        events = self.flex_accepted() if self.flex_accepted else ()
        return SiteState(
            base_load_kw=max(base, 0.0),
            import_limit_kw=limit,
            import_targets_at=(
                (lambda start, end: slot_targets(start, end, events, limit))
                if events
                else None
            ),
            gas_price=options.get(CONF_GAS_PRICE),
            battery_soc_kwh=socs,
            base_load_at=self.base_load_at,
            pv_kw_at=self.pv_kw_at,
            export_price_at=self._export_price_at if self.export_prices else None,
            export_limit_kw=ExportSettings.from_options(options).limit_kw,
        )

    def _export_price_at(self, slot: datetime) -> float | None:
        data = self.export_prices.data if self.export_prices else None
        known = data.slot_at(slot) if data else None
        return known.value if known is not None else None

    def inputs_differ(self, now: datetime) -> list[str]:
        """Say which of the solar forecast and export prices moved from the plan's."""
        schedule = self.data
        if schedule is None:
            return []
        later = [
            (index, start)
            for index, start in enumerate(schedule.slot_starts)
            if start > now
        ]
        site = self._site()
        reasons = []
        planned_pv = [schedule.pv_kw[i] if schedule.pv_kw else 0.0 for i, _ in later]
        pv = site.pv_kw([start for _, start in later])
        if any(abs(a - b) > PV_CHANGE_KW for a, b in zip(planned_pv, pv, strict=True)):
            reasons.append("solar forecast changed")
        paid = site.export_price_at
        if any(
            (schedule.export_prices[i] if schedule.export_prices else None)
            != (paid(start) if paid is not None else None)
            for i, start in later
            if schedule.prices[i] is not None
        ):
            reasons.append("export prices changed")
        return reasons

    @callback
    def site_inputs_updated(self) -> None:
        """Re-plan when the solar forecast or export prices moved from the plan's."""
        self.async_update_listeners()
        if self.data is not None and self.inputs_differ(dt_util.utcnow()):
            self.hass.async_create_task(self.async_request_replan())

    def _note_reading(self, key: str, problem: str | None) -> None:
        """Log a sensor that gives no usable reading once, and when it recovers."""
        if problem is not None and self._reading_problems.get(key) != problem:
            LOGGER.warning("Planning without %s: %s", key.replace("_", " "), problem)
        elif problem is None and key in self._reading_problems:
            LOGGER.info("%s readings are back", key.replace("_", " ").capitalize())
        if problem is None:
            self._reading_problems.pop(key, None)
        else:
            self._reading_problems[key] = problem

    def _battery_soc(self, load: BatteryConfig) -> float | None:
        """Return the battery's state of charge in kWh from its sensor."""
        if not load.soc_entity:
            return None
        reading = state_of_charge_kwh(self.hass, load.soc_entity, load.capacity_kwh)
        self._note_reading(f"{load.name}_state_of_charge", reading.problem)
        return reading.value

    def _planned_soc(self, load: BatteryConfig, now: datetime) -> float | None:
        """Return the SoC the current plan expected at the start of this slot."""
        if self.data is None or (index := self.data.index(now)) is None:
            return None
        schedule = self.data.loads.get(load.id)
        if schedule is None or schedule.soc_kwh is None:
            return None
        return schedule.soc_kwh[index]

    def _car_needs(
        self, now: datetime, start: datetime
    ) -> dict[str, tuple[str, float]]:
        """Return each car's own need (kWh to draw) in its current or next window.

        Energy needed = (target - state of charge) x battery / charger
        efficiency, less what the running half-hour still delivers before
        ``start``. A one-off requirement (``hems.set_requirement``) wins.
        """
        needs = {}
        for load in self.loads.values():
            if not isinstance(load, InterruptibleConfig) or not load.car_soc_entity:
                continue
            if self.state.load(load.id).requirement is not None:
                continue
            capacity = load.car_battery_kwh or 0.0
            reading = state_of_charge_kwh(self.hass, load.car_soc_entity, capacity)
            self._note_reading(f"{load.name}_car_state_of_charge", reading.problem)
            instance = next_instance(load.window, self.tz, now)
            if reading.value is None or instance is None:
                continue  # no reading: the hours needed, as configured
            kwh = max(load.target_soc / 100 * capacity - reading.value, 0.0)
            kwh /= load.charger_efficiency
            if start > now and self.state.load(load.id).on_since is not None:
                kwh -= load.power_kw * (start - now) / timedelta(hours=1)
            needs[load.id] = (instance.key, max(kwh, 0.0))
        return needs

    async def _async_car_soc_changed(self, now: datetime) -> None:
        """Re-plan when a car's need moved by a half-hour's charging or more."""
        current = slot_start(now)
        start = current + SLOT if self.state.last_applied_slot == current else current
        needs = self._car_needs(now, start)
        for load_id, (_, kwh) in needs.items():
            load = self.loads[load_id]
            assert isinstance(load, InterruptibleConfig)  # noqa: S101 - by _car_needs
            before = self._planned_need.get(load_id)
            if before is None or abs(before - kwh) >= load.power_kw * 0.5:
                await self.async_request_replan()
                return

    def _build(self, now: datetime, start: datetime) -> BuiltProblem | None:
        """Return the problem of every known price from ``start``."""
        needs = self._car_needs(now, start)
        return build_problem(
            loads=list(self.loads.values()),
            prices=self._import_slots(),
            now=now,
            start=start,
            tz=self.tz,
            progress={
                load_id: self._progress(load_id, now, start) for load_id in self.loads
            },
            site=replace(self._site(), car_need_kwh=needs),
        )

    def _import_slots(self) -> Sequence[PriceSlot]:
        """Return the known import prices as planned: flexibility events applied."""
        slots = self.prices.data.slots if self.prices.data else ()
        return self.flex_prices(slots) if self.flex_prices else slots

    def _progress(self, load_id: str, now: datetime, start: datetime) -> Progress:
        """Return what ran, and what the running half-hour will add before ``start``."""
        state = self.state.load(load_id)
        progress = state.progress()
        load = self.loads[load_id]
        if start <= now or state.on_since is None:
            return progress
        if not isinstance(load, InterruptibleConfig):
            return progress
        instance = instance_at(load.window, self.tz, now, progress.requirement)
        if instance is None:
            return progress
        runs = dict(progress.runs)
        runs[instance.key] = runs.get(instance.key, 0.0) + (start - now) / SLOT
        return replace(progress, runs=runs)

    @override
    async def _async_update_data(self) -> Schedule | None:
        """Plan (used by the first refresh; later plans go through async_replan)."""
        return await self._async_compute()

    async def async_replan(self) -> None:
        """Plan again now, install the plan and apply the current half-hour."""
        async with self._plan_lock:
            schedule = await self._async_compute()
            if schedule is not self.data:
                self.async_set_updated_data(schedule)
        await self.async_apply()

    async def async_request_replan(self) -> None:
        """Plan again soon; requests while a plan runs make one more plan after it."""
        if self._stopping:
            return
        if self._replan_task is not None and not self._replan_task.done():
            self._replan_again = True
            return
        self._replan_task = self.hass.async_create_task(
            self._async_replan_until_settled(), f"{DOMAIN} re-plan"
        )

    async def _async_replan_until_settled(self) -> None:
        while True:
            self._replan_again = False
            await self.async_replan()
            if not self._replan_again or self._stopping:
                return

    async def _async_compute(self) -> Schedule | None:
        """Re-plan over every known price from the first slot not yet applied."""
        now = dt_util.utcnow()
        current = slot_start(now)
        self._expire(now)
        self._meter(now)
        start = current + SLOT if self.state.last_applied_slot == current else current
        built = self._build(now, start)
        if built is None:
            return self.data
        self._planned_need = {
            load_id: kwh for load_id, (_, kwh) in self._car_needs(now, start).items()
        }
        site = self._site()
        try:
            result = await self.hass.async_add_executor_job(
                partial(
                    plan,
                    built.problem,
                    best_effort=True,
                    time_limit_s=PLAN_TIME_LIMIT_S,
                    memory_limit_mb=PLAN_MEMORY_LIMIT_MB,
                )
            )
        except Exception as err:  # noqa: BLE001 - a plan that fails keeps the last
            self.last_error = str(err) or repr(err)
            LOGGER.error("Could not plan: %s", self.last_error)
            self._set_issue("plan_failed", {"error": self.last_error})
            return self.data
        self.last_error = None
        self._clear_issue("plan_failed")
        schedule = schedule_from_plan(built, result, list(self.loads.values()), now)
        report = (
            limit_report(schedule, result.net_import_kw, self.loads, self.tz)
            if result.limit_violation_kwh > 0
            else None
        )
        if report is not None:
            self._set_issue(
                "import_limit_exceeded",
                {
                    "limit": f"{site.import_limit_kw:g}",
                    "excess": f"{result.limit_violation_kwh:.2f}",
                    "when": report.when,
                    "loads": report.loads,
                    "worst": f"{report.worst_kw:g}",
                },
            )
        else:
            self._clear_issue("import_limit_exceeded")
        schedule = keep_current_slot(self.data, schedule, current)
        if schedule.base_kw and schedule.slot_starts[0] == current:
            # The running half-hour keeps its decisions, but its base load is
            # a forecast: the newest one (e.g. just learnt) is shown.
            schedule = replace(
                schedule, base_kw=(site.base_kw(current), *schedule.base_kw[1:])
            )
        await self._async_save(schedule)
        self.hass.bus.async_fire(
            EVENT_PLAN_UPDATED,
            {
                "entry_id": self.config_entry.entry_id,
                "cost": schedule.cost,
                "slots": len(schedule.slot_starts),
            },
        )
        return schedule

    def _stored(self, schedule: Schedule | None = None) -> dict[str, Any]:
        schedule = schedule if schedule is not None else self.data
        return {
            "state": self.state.as_dict(),
            "schedule": schedule.as_dict() if schedule else None,
        }

    async def _async_save(self, schedule: Schedule | None = None) -> None:
        await self._store.async_save(self._stored(schedule))

    def _expire(self, now: datetime) -> None:
        """Drop overrides, requirements and hand-switching whose time has passed."""
        for state in self.state.loads.values():
            if state.override and state.override.until <= now:
                state.override = None
            if state.requirement and state.requirement.by <= now:
                state.requirement = None
        for load_id, until in list(self.manual_until.items()):
            if until <= now:
                del self.manual_until[load_id]
        self.state.prune(now - timedelta(days=2))

    # --- requests from services and entities -----------------------------------

    async def async_override(
        self, load_id: str, state: str, *, until: datetime
    ) -> None:
        """Put a load into ``state`` until ``until``, then back to the plan."""
        self.state.load(load_id).override = Override(state=state, until=until)
        self.manual_until.pop(load_id, None)
        await self.async_apply()

    async def async_set_requirement(
        self, load_id: str, *, hours: float, by: datetime
    ) -> None:
        """Plan ``hours`` of running before ``by`` instead of the daily window."""
        now = dt_util.utcnow()
        self.state.load(load_id).requirement = Requirement(
            hours=hours, by=by, since=slot_start(now)
        )
        await self.async_replan()

    # --- booking what ran -----------------------------------------------------

    def _price_at(self, slot: datetime) -> float | None:
        known = self.prices.data.slot_at(slot) if self.prices.data else None
        return known.value if known is not None else None

    def _device_on(self, load: LoadConfig) -> bool:
        """Return whether the load's device is on, as far as hems can see."""
        actuator = self.actuators[load.id]
        if isinstance(actuator, EntitySwitch):
            state = self.hass.states.get(actuator.entity_id)
            return state is not None and state.state == STATE_ON
        return self.state.load(load.id).applied == ON

    def today_now(self, now: datetime | None = None) -> DayTotals:
        """Return today's totals with the runs still going counted up to now."""
        now = now or dt_util.utcnow()
        book = DayBook(replace(self.state.today), self.tz)
        book.add(now, 0.0, None)
        since = self.state.metered_until or now
        for load in self.loads.values():
            state = self.state.load(load.id)
            if isinstance(load, InterruptibleConfig) and state.on_since is not None:
                if state.on_since < now:
                    book_run(
                        load,
                        deepcopy(state),
                        state.on_since,
                        now,
                        tz=self.tz,
                        price_at=self._price_at,
                        book=book,
                        diverted=self._diverting(load.id),
                    )
            elif isinstance(load, CycleConfig) and since < now:
                book_cycles(
                    load,
                    deepcopy(state),
                    since,
                    now,
                    price_at=self._price_at,
                    book=book,
                )
        return book.totals

    def running(self) -> bool:
        """Return whether a load is using energy now (its totals grow)."""
        now = dt_util.utcnow()
        for load in self.loads.values():
            state = self.state.load(load.id)
            if isinstance(load, InterruptibleConfig) and state.on_since is not None:
                return True
            if isinstance(load, CycleConfig) and any(
                started <= now < started + SLOT * len(load.profile_kwh)
                for started in state.cycle_starts.values()
            ):
                return True
        return False

    def _book_plan(self, now: datetime) -> None:
        """Book the plan's parts of the time that passed into today's figures."""
        parts = self.state.today_parts
        since = parts.until or now
        while since < now and self.data is not None:
            local = since.astimezone(self.tz)
            midnight = datetime.combine(
                local.date() + timedelta(days=1), time(0), tzinfo=self.tz
            ).astimezone(UTC)
            until = min(now, midnight)
            parts.add(
                local.date().isoformat(), planned_from(self.data, since, until), until
            )
            since = until
        parts.until = max(now, parts.until or now)

    def today_parts(self, now: datetime | None = None) -> dict[str, Planned]:
        """Return today's parts so far, as planned (the running half-hour to now)."""
        now = now or dt_util.utcnow()
        parts = self.state.today_parts
        day = now.astimezone(self.tz).date().isoformat()
        midnight = datetime.combine(
            now.astimezone(self.tz).date(), time(0), tzinfo=self.tz
        ).astimezone(UTC)
        since = max(parts.until or now, midnight)
        running = (
            planned_from(self.data, since, now)
            if self.data is not None and since < now
            else PlannedTotals(loads={}, base_load=Planned(), battery=Planned())
        )
        return parts.with_(day, running)

    def _meter(self, now: datetime) -> None:
        """Book every load's use up to ``now`` from what its device shows."""
        self._book_plan(now)
        since = self.state.metered_until or now
        book = DayBook(self.state.today, self.tz)
        book.add(now, 0.0, None)  # a new local day starts its totals at zero
        for load in self.loads.values():
            state = self.state.load(load.id)
            if isinstance(load, InterruptibleConfig):
                if state.on_since is not None and state.on_since < now:
                    book_run(
                        load,
                        state,
                        state.on_since,
                        now,
                        tz=self.tz,
                        price_at=self._price_at,
                        book=book,
                        diverted=self._diverting(load.id),
                    )
                    state.on_since = now
                if not self._device_on(load):
                    state.on_since = None
                elif state.on_since is None:
                    state.on_since = now
            elif isinstance(load, CycleConfig) and since < now:
                book_cycles(load, state, since, now, price_at=self._price_at, book=book)
        self.state.today = book.totals
        self.state.metered_until = max(now, since)

    # --- execution ------------------------------------------------------------

    def desired(self, load: LoadConfig, now: datetime) -> str | None:
        """Return what the load should be doing now, or None to leave it alone."""
        state = self.state.load(load.id)
        if state.override is not None and state.override.until > now:
            if isinstance(load, BatteryConfig) and load.control is BatteryControl.POWER:
                return _mode_as_power(load, state.override.state)
            return state.override.state
        if not state.automatic:
            return None
        schedule = self.data
        index = schedule.index(now) if schedule else None
        if isinstance(load, BatteryConfig):
            if load.control is BatteryControl.POWER:
                plan = schedule.loads.get(load.id) if schedule else None
                kw = plan.kw[index] if plan and plan.kw and index is not None else 0.0
                return power_state(kw)
            return self._battery_mode(load, schedule, index)
        if isinstance(load, CycleConfig):
            return self._cycle_start(load, schedule, now)
        if self.diverter is not None and load.id in self.diverter.diverted:
            return ON  # taking PV surplus (the plan has it off now)
        if schedule is None or index is None or load.id not in schedule.loads:
            return OFF
        return ON if schedule.loads[load.id].on[index] else OFF

    @staticmethod
    def _battery_mode(
        load: BatteryConfig, schedule: Schedule | None, index: int | None
    ) -> str:
        if schedule is None or index is None or load.id not in schedule.loads:
            return BatteryMode.NORMAL.value
        modes = schedule.loads[load.id].modes
        return modes[index] if modes else BatteryMode.NORMAL.value

    def _cycle_start(
        self, load: CycleConfig, schedule: Schedule | None, now: datetime
    ) -> str | None:
        """Return ON in the half-hour a cycle starts; wet goods never go off."""
        if schedule is None or load.id not in schedule.loads:
            return None
        current = slot_start(now)
        started = self.state.load(load.id).cycle_starts
        for window in schedule.loads[load.id].windows:
            if window.cycle_start == current and window.key not in started:
                return ON
        return None

    async def async_apply(self, now: datetime | None = None) -> None:
        """Apply the current slot of the plan to every load (idempotent)."""
        async with self._apply_lock:
            now = now or dt_util.utcnow()
            self._expire(now)
            self._meter(now)
            context = Context()
            self._contexts.append(context.id)
            for load in self.loads.values():
                try:
                    await self._async_apply_load(load, now, context)
                except Exception as err:  # noqa: BLE001 - one load never stops the rest
                    LOGGER.exception("Switching %s failed", load.name)
                    self._actuator_failed(load, str(err) or repr(err))
            self.state.last_applied_slot = slot_start(now)
            self._meter(now)
            await self._async_save()
        self.async_update_listeners()

    async def _async_apply_load(
        self, load: LoadConfig, now: datetime, context: Context
    ) -> None:
        """Put one load into the state the plan (or an override) wants."""
        state = self.state.load(load.id)
        wanted = self.desired(load, now)
        if wanted is None:
            if isinstance(load, InterruptibleConfig) and not isinstance(
                self.actuators[load.id], EntitySwitch
            ):
                state.applied = None  # nobody commands it: not booked as running
            return
        if (
            state.override is None
            and load.id in self.manual_until
            and self.manual_until[load.id] > now
        ):
            return  # switched by hand this half-hour: leave it
        try:
            await self.actuators[load.id].async_apply(wanted, context=context)
        except ActuationError as err:
            self._actuator_failed(load, str(err))
            return
        self._actuator_ok(load)
        if isinstance(load, CycleConfig) and wanted == ON:
            instance = instance_at(load.window, self.tz, now)
            if instance is not None:
                state.cycle_starts[instance.key] = slot_start(now)
        if state.applied != wanted:
            self._fire_transition(load, state.applied, wanted)
            state.applied = wanted

    @callback
    def _fire_transition(
        self, load: LoadConfig, before: str | None, after: str
    ) -> None:
        data = {"load": load.name, "load_id": load.id, "state": after}
        if after == ON or (isinstance(load, BatteryConfig) and after != before):
            self.hass.bus.async_fire(EVENT_LOAD_STARTED, data)
        elif after == OFF and before == ON:
            self.hass.bus.async_fire(EVENT_LOAD_STOPPED, data)

    @callback
    def _actuator_failed(self, load: LoadConfig, message: str) -> None:
        if self.actuator_errors.get(load.id) != message:  # once per new problem
            LOGGER.error("Could not switch %s: %s", load.name, message)
        self.actuator_errors[load.id] = message
        self._set_issue(
            f"actuator_failed_{load.id}",
            {"load": load.name, "error": message},
            translation_key="actuator_failed",
        )

    @callback
    def _actuator_ok(self, load: LoadConfig) -> None:
        if self.actuator_errors.pop(load.id, None) is not None:
            LOGGER.info("%s can be switched again", load.name)
            self._clear_issue(f"actuator_failed_{load.id}")

    @callback
    def _set_issue(
        self,
        key: str,
        placeholders: dict[str, str],
        translation_key: str | None = None,
        severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
    ) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{key}_{self.config_entry.entry_id}",
            is_fixable=False,
            severity=severity,
            translation_key=translation_key or key,
            translation_placeholders=placeholders,
        )

    @callback
    def _clear_issue(self, key: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, f"{key}_{self.config_entry.entry_id}")


_EMPTY = Schedule(
    created=datetime.min.replace(tzinfo=UTC),
    slot_starts=(),
    prices=(),
    loads={},
    cost=0.0,
)


def _parse_stored(raw: Any) -> tuple[tuple[ControlState, Schedule | None], list[str]]:
    """Return the runtime state and plan that can be trusted, and what was not."""
    if not isinstance(raw, Mapping):
        raise StoreDataError(f"expected an object, got {type(raw).__name__}")
    state, dropped = ControlState.from_dict(raw.get("state", {}))
    schedule = None
    if raw.get("schedule"):
        try:
            schedule = Schedule.from_dict(raw["schedule"])
        except ValueError as err:
            dropped.append(f"{err} (a new plan is made)")
    return (state, schedule), dropped


def _mode_as_power(load: BatteryConfig, mode: str) -> str:
    """Return the setpoint a mode override means for a power-driven battery."""
    if mode == "force_charge":
        return power_state(load.charge_kw)
    if mode == "force_discharge":
        return power_state(-load.discharge_kw)
    return power_state(0.0)  # hold (and "normal": no setpoint to follow)
