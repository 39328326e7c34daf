"""The plan coordinator: re-plans on new prices and changes, applies each slot."""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, override
from zoneinfo import ZoneInfo

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
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

from .actuation import OFF, ON, ActuationError, LoadActuator, build_actuator
from .const import (
    CONF_BASE_LOAD,
    CONF_BASE_LOAD_ENTITY,
    CONF_GAS_PRICE,
    CONF_IMPORT_LIMIT,
    DOMAIN,
    EVENT_LOAD_STARTED,
    EVENT_LOAD_STOPPED,
    EVENT_PLAN_UPDATED,
    LOGGER,
    SOC_DRIFT_KWH,
    STORAGE_VERSION,
)
from .control_state import ControlState, DayTotals, LoadState, Override, Requirement
from .coordinator import HemsPriceCoordinator
from .load_config import (
    BatteryConfig,
    CycleConfig,
    InterruptibleConfig,
    LoadConfig,
)
from .planner import BatteryMode, ProblemError, plan
from .price_data import slot_start
from .prices import SLOT
from .scheduling import (
    Schedule,
    SiteState,
    build_problem,
    instance_at,
    keep_current_slot,
    schedule_from_plan,
)

if TYPE_CHECKING:
    from . import HemsConfigEntry


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
        self._price_slots_seen: object = None

    # --- set-up and tear-down -------------------------------------------------

    @override
    async def _async_setup(self) -> None:
        """Restore the plan and runtime state, then start listening."""
        stored = await self._store.async_load()
        if stored:
            try:
                self.state = ControlState.from_dict(stored.get("state", {}))
                if stored.get("schedule"):
                    self.data = Schedule.from_dict(stored["schedule"])
            except (KeyError, TypeError, ValueError) as err:
                LOGGER.warning("Ignoring a damaged stored plan: %s", err)
        for load_id in self.loads:
            self.state.load(load_id)
        self._price_slots_seen = self.prices.data.slots if self.prices.data else None
        self._unsubs.append(self.prices.async_add_listener(self._prices_updated))
        self._unsubs.append(
            async_track_utc_time_change(
                self.hass, self._async_boundary, minute=(0, 30), second=0
            )
        )
        soc_entities = [
            load.soc_entity
            for load in self.loads.values()
            if isinstance(load, BatteryConfig) and load.soc_entity
        ]
        if soc_entities:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, soc_entities, self._async_soc_changed
                )
            )

    async def async_start(self) -> None:
        """Plan (if needed) and apply the current slot at once (after a restart)."""
        now = dt_util.utcnow()
        if self.data is None or self.data.index(now) is None:
            await self.async_refresh()
        await self.async_apply(now)

    @override
    async def async_shutdown(self) -> None:
        """Stop listening and release hardware."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for actuator in self.actuators.values():
            await actuator.async_close()
        await super().async_shutdown()

    # --- triggers -------------------------------------------------------------

    @callback
    def _prices_updated(self) -> None:
        """Re-plan when the known prices changed (not on every half-hour tick)."""
        slots = self.prices.data.slots if self.prices.data else None
        if slots == self._price_slots_seen:
            return
        self._price_slots_seen = slots
        self.hass.async_create_task(self.async_request_refresh())

    async def _async_boundary(self, now: datetime) -> None:
        """Apply the plan at each half-hour."""
        await self.async_apply(now)

    async def _async_soc_changed(self, event: Event[EventStateChangedData]) -> None:
        """Re-plan when a battery's state of charge drifted from the plan."""
        if self.data is None:
            return
        for load in self.loads.values():
            if (
                not isinstance(load, BatteryConfig)
                or load.soc_entity != event.data["entity_id"]
            ):
                continue
            actual = self._battery_soc(load)
            expected = self._planned_soc(load, dt_util.utcnow())
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
                await self.async_request_refresh()
                return

    # --- planning -------------------------------------------------------------

    def _site(self) -> SiteState:
        options = self.config_entry.options
        base = float(options.get(CONF_BASE_LOAD) or 0.0)
        if (entity_id := options.get(CONF_BASE_LOAD_ENTITY)) and (
            reading := _reading(self.hass, entity_id)
        ):
            value, unit = reading
            base = value / 1000 if unit == "W" else value
        socs = {}
        for load in self.loads.values():
            if isinstance(load, BatteryConfig):
                soc = self._battery_soc(load)
                if soc is not None:
                    socs[load.id] = soc
        limit = options.get(CONF_IMPORT_LIMIT)
        return SiteState(
            base_load_kw=max(base, 0.0),
            import_limit_kw=float(limit) if limit else None,
            gas_price=options.get(CONF_GAS_PRICE),
            battery_soc_kwh=socs,
        )

    def _battery_soc(self, load: BatteryConfig) -> float | None:
        """Return the battery's state of charge in kWh from its sensor."""
        if not load.soc_entity:
            return None
        if (reading := _reading(self.hass, load.soc_entity)) is None:
            return None
        value, unit = reading
        return value / 100 * load.capacity_kwh if unit == "%" else value

    def _planned_soc(self, load: BatteryConfig, now: datetime) -> float | None:
        """Return the SoC the current plan expected at the start of this slot."""
        if self.data is None or (index := self.data.index(now)) is None:
            return None
        schedule = self.data.loads.get(load.id)
        if schedule is None or schedule.soc_kwh is None:
            return None
        return schedule.soc_kwh[index]

    @override
    async def _async_update_data(self) -> Schedule | None:
        """Re-plan over every known price from the first slot not yet applied."""
        now = dt_util.utcnow()
        current = slot_start(now)
        self._expire(now)
        start = current + SLOT if self.state.last_applied_slot == current else current
        built = build_problem(
            loads=list(self.loads.values()),
            prices=self.prices.data.slots if self.prices.data else (),
            now=now,
            start=start,
            tz=self.tz,
            progress={
                load_id: self.state.load(load_id).progress() for load_id in self.loads
            },
            site=(site := self._site()),
        )
        if built is None:
            return self.data
        try:
            result = await self.hass.async_add_executor_job(
                partial(plan, built.problem, best_effort=True)
            )
        except ProblemError as err:
            self.last_error = str(err)
            LOGGER.error("Could not plan: %s", err)
            self._set_issue("plan_failed", {"error": str(err)})
            return self.data
        self.last_error = None
        self._clear_issue("plan_failed")
        if result.limit_violation_kwh > 0:
            self._set_issue(
                "import_limit_exceeded",
                {
                    "limit": f"{site.import_limit_kw:g}",
                    "excess": f"{result.limit_violation_kwh:.2f}",
                },
            )
        else:
            self._clear_issue("import_limit_exceeded")
        schedule = schedule_from_plan(built, result, list(self.loads.values()), now)
        schedule = keep_current_slot(self.data, schedule, current)
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

    async def _async_save(self, schedule: Schedule | None = None) -> None:
        schedule = schedule if schedule is not None else self.data
        await self._store.async_save(
            {
                "state": self.state.as_dict(),
                "schedule": schedule.as_dict() if schedule else None,
            }
        )

    def _expire(self, now: datetime) -> None:
        """Drop overrides and requirements whose time has passed."""
        for state in self.state.loads.values():
            if state.override and state.override.until <= now:
                state.override = None
            if state.requirement and state.requirement.by <= now:
                state.requirement = None
        self.state.prune(now - timedelta(days=2))

    # --- requests from services and entities -----------------------------------

    async def async_override(
        self, load_id: str, state: str, *, until: datetime
    ) -> None:
        """Put a load into ``state`` until ``until``, then back to the plan."""
        self.state.load(load_id).override = Override(state=state, until=until)
        await self.async_apply()

    async def async_set_requirement(
        self, load_id: str, *, hours: float, by: datetime
    ) -> None:
        """Plan ``hours`` of running before ``by`` instead of the daily window."""
        now = dt_util.utcnow()
        self.state.load(load_id).requirement = Requirement(
            hours=hours, by=by, since=slot_start(now)
        )
        await self.async_refresh()
        await self.async_apply(now)

    # --- execution ------------------------------------------------------------

    def desired(self, load: LoadConfig, now: datetime) -> str | None:
        """Return what the load should be doing now, or None to leave it alone."""
        state = self.state.load(load.id)
        if state.override is not None and state.override.until > now:
            return state.override.state
        if not state.automatic:
            return None
        schedule = self.data
        index = schedule.index(now) if schedule else None
        if isinstance(load, BatteryConfig):
            if schedule is None or index is None:
                return BatteryMode.NORMAL.value
            modes = schedule.loads[load.id].modes if load.id in schedule.loads else None
            return modes[index] if modes else BatteryMode.NORMAL.value
        if isinstance(load, CycleConfig):
            if schedule is None or load.id not in schedule.loads:
                return None
            current = slot_start(now)
            for window in schedule.loads[load.id].windows:
                if (
                    window.cycle_start == current
                    and window.key not in state.cycle_starts
                ):
                    return ON
            return None  # wet goods are never switched off by hems
        if schedule is None or index is None or load.id not in schedule.loads:
            return OFF
        return ON if schedule.loads[load.id].on[index] else OFF

    async def async_apply(self, now: datetime | None = None) -> None:
        """Apply the current slot of the plan to every load (idempotent)."""
        now = now or dt_util.utcnow()
        current = slot_start(now)
        self._expire(now)
        self._roll_day(now)
        index = self.data.index(now) if self.data else None
        for load in self.loads.values():
            wanted = self.desired(load, now)
            state = self.state.load(load.id)
            if wanted is None:
                continue
            try:
                await self.actuators[load.id].async_apply(wanted)
            except ActuationError as err:
                self._actuator_failed(load, str(err))
                continue
            self._actuator_ok(load)
            if isinstance(load, CycleConfig) and wanted == ON:
                instance = instance_at(load.window, self.tz, now)
                if instance is not None:
                    state.cycle_starts[instance.key] = current
            if state.last_counted_slot != current:
                self._count(load, state, wanted, current, index)
            if state.applied != wanted:
                self._fire_transition(load, state.applied, wanted)
                state.applied = wanted
        self.state.last_applied_slot = current
        await self._async_save()
        self.async_update_listeners()

    def _count(
        self,
        load: LoadConfig,
        state: LoadState,
        wanted: str,
        current: datetime,
        index: int | None,
    ) -> None:
        """Book the slot's run and its energy and cost, once per slot."""
        state.last_counted_slot = current
        price = self.data.prices[index] if self.data and index is not None else None
        energy = 0.0
        if isinstance(load, InterruptibleConfig) and wanted == ON:
            instance = instance_at(
                load.window, self.tz, current, state.progress().requirement
            )
            if instance is not None:
                state.runs[instance.key] = state.runs.get(instance.key, 0) + 1
            energy = load.power_kw * 0.5
        elif isinstance(load, CycleConfig):
            for started in state.cycle_starts.values():
                step = int((current - started) / SLOT)
                if 0 <= step < len(load.profile_kwh):
                    energy += load.profile_kwh[step]
        if price is not None and energy:
            self.state.today.energy_kwh += energy
            self.state.today.cost += energy * price

    def _roll_day(self, now: datetime) -> None:
        day = now.astimezone(self.tz).date().isoformat()
        if self.state.today.day != day:
            self.state.today = DayTotals(day=day)

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
        if self.actuator_errors.get(load.id) != message:
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
            self._clear_issue(f"actuator_failed_{load.id}")

    @callback
    def _set_issue(
        self,
        key: str,
        placeholders: dict[str, str],
        translation_key: str | None = None,
    ) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{key}_{self.config_entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=translation_key or key,
            translation_placeholders=placeholders,
        )

    @callback
    def _clear_issue(self, key: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, f"{key}_{self.config_entry.entry_id}")


def _reading(hass: HomeAssistant, entity_id: str) -> tuple[float, str | None] | None:
    """Return an entity's numeric state and unit, or None if it has none."""
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        return float(state.state), state.attributes.get("unit_of_measurement")
    except ValueError:
        return None
