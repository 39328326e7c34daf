"""Solar forecast and house load, found in Home Assistant first.

Two coordinators, both refreshed rarely and never in the way of set-up:

- ``SolarCoordinator`` reads the forecast the householder already set up for
  the Energy dashboard (every solar source's ``config_entry_solar_forecast``,
  through each integration's energy platform, as the dashboard does), or
  chosen sensors with a forecast attribute. Every 30 minutes, when new prices
  arrive, when a chosen sensor changes and at Home Assistant's start.
- ``HouseLoadCoordinator`` learns the base load per weekday and half-hour from
  the recorder's statistics of the Energy dashboard's grid, solar and battery
  meters, less what hems's own loads used. At start and once a day; the
  recorder is read in its own executor; the result is cached in a store so a
  restart plans with it at once.

Without the recorder or the Energy dashboard hems plans with the configured
base load and no solar; a repair issue says so only where the householder
asked for something that is missing.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, override
from zoneinfo import ZoneInfo

from homeassistant.components.energy.data import async_get_manager
from homeassistant.components.energy.websocket_api import async_get_energy_platforms
from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_change,
)
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import CONF_BASE_LOAD, DOMAIN, LOGGER
from .house_load import (
    FIVE_MINUTES,
    HOUR,
    ForecastError,
    Meters,
    Profile,
    booked_energy,
    forecast_error,
    half_hours,
    house_energy,
    learn_profile,
    parse_slot_key,
    period_energy,
    slot_key,
)
from .site_options import ForecastSource, InputSettings
from .solar_forecast import (
    Keying,
    SolarForecast,
    from_attributes,
    from_wh_hours,
    merge,
)
from .storage import StoreDataError, async_load_store

if TYPE_CHECKING:
    from . import HemsConfigEntry
    from .plan_coordinator import HemsPlanCoordinator

SOLAR_REFRESH = timedelta(minutes=30)
# The learnt profile is made again daily at this local time (and at start).
LEARN_AT = {"hour": 0, "minute": 20, "second": 0}
# A cached profile older than this is not used after a restart.
PROFILE_MAX_AGE = timedelta(days=2)
STORE_VERSION = 1
WEEK_CELLS = 7 * 48

# Energy platforms whose wh_hours mark the end of each period: the core
# Forecast.Solar integration passes its API's watt_hours_period unchanged, and
# that API gives the energy of the period ending at each time (a recorded
# response: 0 Wh at sunrise, then the area under the power curve up to each
# point). Every other provider (Solcast, Open-Meteo ...) marks period starts,
# as Home Assistant's Energy dashboard reads them.
END_KEYED_DOMAINS = frozenset({"forecast_solar"})

ISSUE_NO_FORECAST = "no_solar_forecast"
ISSUE_NOT_LEARNT = "house_load_not_learnt"


def _issue(hass: HomeAssistant, entry_id: str, key: str, reason: str | None) -> None:
    """Raise (with ``reason``) or clear one of this module's repair issues."""
    issue_id = f"{key}_{entry_id}"
    if reason is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=key,
        translation_placeholders={"reason": reason},
    )


async def async_energy_preferences(hass: HomeAssistant) -> Mapping[str, Any] | None:
    """Return the Energy dashboard's preferences (None: energy is not set up)."""
    if "energy" not in hass.config.components:
        return None
    manager = await async_get_manager(hass)
    return manager.data


def forecast_entries(preferences: Mapping[str, Any] | None) -> list[str]:
    """Return the forecast config entries of the Energy dashboard's solar panels."""
    found: list[str] = []
    for source in (preferences or {}).get("energy_sources", ()):
        if source.get("type") != "solar":
            continue
        for entry_id in source.get("config_entry_solar_forecast") or ():
            if entry_id not in found:
                found.append(entry_id)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterIds:
    """The statistic ids of the Energy dashboard's electricity meters."""

    grid_import: tuple[str, ...] = ()
    grid_export: tuple[str, ...] = ()
    solar: tuple[str, ...] = ()
    battery_in: tuple[str, ...] = ()
    battery_out: tuple[str, ...] = ()

    @property
    def all(self) -> set[str]:
        """Return every statistic id."""
        return {
            *self.grid_import,
            *self.grid_export,
            *self.solar,
            *self.battery_in,
            *self.battery_out,
        }


def meter_ids(preferences: Mapping[str, Any] | None) -> MeterIds:
    """Return the grid, solar and battery meters (current and legacy grid forms)."""
    found: dict[str, list[str]] = {
        "grid_import": [],
        "grid_export": [],
        "solar": [],
        "battery_in": [],
        "battery_out": [],
    }

    def add(kind: str, stat: Any) -> None:
        if isinstance(stat, str) and stat and stat not in found[kind]:
            found[kind].append(stat)

    for source in (preferences or {}).get("energy_sources", ()):
        match source.get("type"):
            case "grid":
                add("grid_import", source.get("stat_energy_from"))
                add("grid_export", source.get("stat_energy_to"))
                for flow in source.get("flow_from") or ():
                    add("grid_import", flow.get("stat_energy_from"))
                for flow in source.get("flow_to") or ():
                    add("grid_export", flow.get("stat_energy_to"))
            case "solar":
                add("solar", source.get("stat_energy_from"))
            case "battery":
                add("battery_out", source.get("stat_energy_from"))
                add("battery_in", source.get("stat_energy_to"))
    return MeterIds(**{kind: tuple(ids) for kind, ids in found.items()})


# --- the solar forecast --------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SolarReading:
    """The solar forecast in force and where it came from."""

    source: ForecastSource
    forecast: SolarForecast = field(default_factory=SolarForecast)
    # What gave a forecast (config entry titles or entity ids).
    used: tuple[str, ...] = ()
    # Why a configured forecast gave nothing or only part.
    problems: tuple[str, ...] = ()
    # Whether a forecast was configured at all (a repair issue if it is empty).
    configured: bool = False


class SolarCoordinator(DataUpdateCoordinator[SolarReading | None]):
    """Keeps the solar forecast (kWh per UTC half-hour)."""

    config_entry: HemsConfigEntry

    def __init__(self, hass: HomeAssistant, config_entry: HemsConfigEntry) -> None:
        """Initialise for the entry (settings are read at every refresh)."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN}_solar",
            update_interval=SOLAR_REFRESH,
            always_update=False,
        )
        self.tz = ZoneInfo(hass.config.time_zone)
        self._unsub_entities: Callable[[], None] | None = None
        self._prices_end: datetime | None = None
        self._logged: tuple[str, ...] = ()
        self._settings_seen: InputSettings | None = None

    @property
    def settings(self) -> InputSettings:
        """Return the settings in force."""
        return InputSettings.from_options(self.config_entry.options)

    def pv_kw(self, slots: Iterable[datetime]) -> tuple[float, ...]:
        """Return the forecast average PV power (kW) of each half-hour, 0 if unknown."""
        if self.data is None:
            return tuple(0.0 for _ in slots)
        return self.data.forecast.kw(slots)

    @callback
    def async_start(self) -> Callable[[], None]:
        """Follow the chosen sensors; read again once Home Assistant has started.

        At start the forecast integrations may not be ready: the forecast read
        at set-up is judged (a repair issue or not) only once it has started.
        """
        self._track_sensors()
        if self.hass.is_running:
            return self.async_stop

        @callback
        def _started(hass: HomeAssistant) -> None:
            self.hass.async_create_task(self.async_request_refresh())

        return async_at_started(self.hass, _started)

    @callback
    def async_stop(self) -> None:
        """Stop following sensors."""
        if self._unsub_entities is not None:
            self._unsub_entities()
            self._unsub_entities = None

    @callback
    def _track_sensors(self) -> None:
        self.async_stop()
        settings = self.settings
        if settings.forecast_source is ForecastSource.SENSOR and (
            entities := list(settings.forecast_entities)
        ):

            async def _changed(event: Event[EventStateChangedData]) -> None:
                await self.async_request_refresh()

            self._unsub_entities = async_track_state_change_event(
                self.hass, entities, _changed
            )

    @callback
    def prices_changed(self, last_end: datetime | None) -> None:
        """Refresh when prices reach further (tomorrow's arrived)."""
        if last_end != self._prices_end:
            self._prices_end = last_end
            self.hass.async_create_task(self.async_request_refresh())

    async def async_settings_changed(self) -> None:
        """Read the forecast again when the section's settings changed."""
        if self.settings != self._settings_seen:
            self._track_sensors()
            await self.async_refresh()

    @override
    async def _async_update_data(self) -> SolarReading:
        """Read the forecast; never raises (problems are in the reading)."""
        settings = self._settings_seen = self.settings
        match settings.forecast_source:
            case ForecastSource.NONE:
                reading = SolarReading(source=ForecastSource.NONE)
            case ForecastSource.SENSOR:
                reading = self._read_sensors(settings)
            case ForecastSource.ENERGY:
                reading = await self._async_read_energy(settings)
        self._report(reading, settings)
        return reading

    def _read_sensors(self, settings: InputSettings) -> SolarReading:
        forecasts, used, problems = [], [], []
        for entity_id in settings.forecast_entities:
            state = self.hass.states.get(entity_id)
            if state is None:
                problems.append(f"{entity_id} does not exist")
                continue
            parsed = from_attributes(state.attributes, settings.estimate)
            problems.extend(f"{entity_id}: {p}" for p in parsed.problems)
            if parsed.forecast.empty:
                problems.append(f"{entity_id} has no forecast")
                continue
            forecasts.append(parsed.forecast)
            used.append(entity_id)
        return SolarReading(
            source=ForecastSource.SENSOR,
            forecast=merge(forecasts),
            used=tuple(used),
            problems=tuple(problems),
            configured=bool(settings.forecast_entities),
        )

    async def _async_read_energy(self, settings: InputSettings) -> SolarReading:
        preferences = await async_energy_preferences(self.hass)
        if preferences is None:
            return SolarReading(
                source=ForecastSource.ENERGY,
                problems=("the Energy dashboard is not set up",),
            )
        entries = forecast_entries(preferences)
        if not entries:
            return SolarReading(
                source=ForecastSource.ENERGY,
                problems=("the Energy dashboard's solar panels have no forecast",),
            )
        platforms = await async_get_energy_platforms(self.hass)
        forecasts, used, problems = [], [], []
        for entry_id in entries:
            entry = self.hass.config_entries.async_get_entry(entry_id)
            if entry is None:
                problems.append(f"the forecast entry {entry_id} no longer exists")
                continue
            if entry.domain not in platforms:
                problems.append(f"{entry.title} gives no forecast to Home Assistant")
                continue
            try:
                raw = await platforms[entry.domain](self.hass, entry_id)
            except Exception as err:  # noqa: BLE001 - another integration's code
                problems.append(f"{entry.title} failed: {err!r}")
                continue
            if raw is None:
                problems.append(f"{entry.title} has no forecast now")
                continue
            keyed = Keying.END if entry.domain in END_KEYED_DOMAINS else Keying.START
            parsed = from_wh_hours(raw, keyed)
            problems.extend(f"{entry.title}: {p}" for p in parsed.problems)
            if parsed.forecast.empty:
                problems.append(f"{entry.title} has an empty forecast")
                continue
            forecasts.append(parsed.forecast)
            used.append(entry.title)
        return SolarReading(
            source=ForecastSource.ENERGY,
            forecast=merge(forecasts),
            used=tuple(used),
            problems=tuple(problems),
            configured=True,
        )

    def _report(self, reading: SolarReading, settings: InputSettings) -> None:
        """Log problems once; raise or clear the repair issue."""
        if reading.problems != self._logged and reading.problems:
            log = LOGGER.warning if reading.configured else LOGGER.info
            log("Solar forecast: %s", "; ".join(reading.problems))
        self._logged = reading.problems
        if not self.hass.is_running:
            return  # forecast integrations may not be ready yet: judged at start
        now = dt_util.utcnow()
        missing = reading.configured and (
            reading.forecast.empty
            or reading.forecast.end is None
            or reading.forecast.end <= now
        )
        reason = None
        if missing:
            reason = "; ".join(reading.problems) or "the forecast ends before now"
        if settings.forecast_source is ForecastSource.NONE:
            reason = None
        _issue(self.hass, self.config_entry.entry_id, ISSUE_NO_FORECAST, reason)


# --- the house load ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseReading:
    """The learnt base load and how good its forecasts were."""

    profile: Profile = field(default_factory=Profile)
    error: ForecastError | None = None
    learnt_at: datetime | None = None
    weeks: int = 0
    statistic: str = ""
    meters: tuple[str, ...] = ()
    # Half-hours of history with every meter known (over the weeks used).
    history_slots: int = 0
    # Why nothing (or not everything) is learnt, in the householder's words.
    status: str = ""
    # A meter of the Energy dashboard that cannot be read (a repair issue).
    problems: tuple[str, ...] = ()


type StatRows = Mapping[str, Sequence[Mapping[str, Any]]]


def _rows(rows: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, float | None]]:
    return [
        (datetime.fromtimestamp(float(row["start"]), UTC), row.get("sum"))
        for row in rows
    ]


def meter_series(
    hourly: StatRows, five_minute: StatRows, ids: Iterable[str]
) -> list[dict[datetime, float]]:
    """Return each meter's half-hourly kWh from its statistics."""
    return [
        half_hours(
            period_energy(_rows(hourly.get(stat, ())), HOUR),
            period_energy(_rows(five_minute.get(stat, ())), FIVE_MINUTES),
        )
        for stat in ids
    ]


class HouseLoadCoordinator(DataUpdateCoordinator[HouseReading | None]):
    """Learns the base load per local weekday and half-hour."""

    config_entry: HemsConfigEntry

    def __init__(self, hass: HomeAssistant, config_entry: HemsConfigEntry) -> None:
        """Initialise for the entry (settings are read at every refresh)."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN}_house_load",
            update_interval=None,
            always_update=False,
        )
        self.tz = ZoneInfo(hass.config.time_zone)
        # The plan coordinator: what hems's own loads used (set at set-up).
        self.plan: HemsPlanCoordinator | None = None
        self._settings_seen: InputSettings | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, f"{DOMAIN}.{config_entry.entry_id}.house"
        )
        # What hems's own loads used per half-hour (ISO key -> kWh), kept as
        # long as the profile looks back; the plan's own record is two days.
        self.own_kwh: dict[str, float] = {}
        self._logged: tuple[str, ...] = ()

    @property
    def settings(self) -> InputSettings:
        """Return the settings in force."""
        return InputSettings.from_options(self.config_entry.options)

    def base_load_at(self, slot: datetime) -> float | None:
        """Return the learnt base load (kW) of a half-hour, None where not learnt."""
        if self.data is None or not self.settings.learn:
            return None
        return self.data.profile.at(slot, self.tz)

    async def async_restore(self) -> None:
        """Load the cached profile and hems's own use (fast; before the first plan)."""
        restored, _ = await async_load_store(self.hass, self._store, _parse_store)
        if restored is None:
            return
        self.own_kwh, reading = restored
        settings = self.settings
        if (
            reading is not None
            and reading.learnt_at is not None
            and dt_util.utcnow() - reading.learnt_at < PROFILE_MAX_AGE
            and reading.weeks == settings.weeks
            and reading.statistic == settings.statistic.value
        ):
            self.async_set_updated_data(reading)

    @callback
    def async_start(self) -> Callable[[], None]:
        """Learn at start and every night; return what stops it."""

        @callback
        def _started(hass: HomeAssistant) -> None:
            self.config_entry.async_create_background_task(
                hass, self.async_refresh(), f"{DOMAIN} learn the house load"
            )

        async def _nightly(now: datetime) -> None:
            await self.async_refresh()

        unsubs = [
            async_at_started(self.hass, _started),
            async_track_time_change(self.hass, _nightly, **LEARN_AT),
        ]

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()

        return _stop

    def _book_own_use(self, keep_from: datetime) -> None:
        """Add what the plan booked (its last two days) to hems's own record."""
        plan = self.plan
        if plan is not None:
            booked = booked_energy(plan.loads.values(), plan.state.loads)
            for slot, kwh in booked.items():
                self.own_kwh[slot_key(slot)] = round(kwh, 4)
        cutoff = slot_key(keep_from)
        self.own_kwh = {k: v for k, v in self.own_kwh.items() if k >= cutoff}

    def _fallback_kw(self) -> float:
        try:
            return max(float(self.config_entry.options.get(CONF_BASE_LOAD) or 0), 0.0)
        except TypeError, ValueError:
            return 0.0

    async def async_settings_changed(self) -> None:
        """Learn again when the section's settings changed."""
        if self.settings != self._settings_seen:
            await self.async_refresh()

    @override
    async def _async_update_data(self) -> HouseReading:
        """Learn the profile; never raises (problems are in the reading)."""
        settings = self._settings_seen = self.settings
        now = dt_util.utcnow()
        today = now.astimezone(self.tz).date()
        first_day = today - timedelta(days=7 * settings.weeks + 7)
        start = datetime.combine(first_day, datetime.min.time(), tzinfo=self.tz)
        start = start.astimezone(UTC)
        self._book_own_use(start)
        self._store.async_delay_save(self._stored, 5)
        if not settings.learn:
            _issue(self.hass, self.config_entry.entry_id, ISSUE_NOT_LEARNT, None)
            return HouseReading(status="learning is off")
        reading = await self._async_learn(settings, start, now, today)
        if reading.problems and reading.problems != self._logged:
            LOGGER.warning(
                "House load not learnt: %s; planning with the configured base load",
                "; ".join(reading.problems),
            )
        self._logged = reading.problems
        reason = "; ".join(reading.problems) if reading.problems else None
        _issue(self.hass, self.config_entry.entry_id, ISSUE_NOT_LEARNT, reason)
        return self._keep_recent(reading, settings, now)

    def _keep_recent(
        self, reading: HouseReading, settings: InputSettings, now: datetime
    ) -> HouseReading:
        """Keep the last profile (up to two days old) while none can be learnt.

        A recorder that cannot be read for a while, or a restart before the
        statistics are, is no reason to forget yesterday's profile.
        """
        last = self.data
        if (
            reading.profile.learnt
            or last is None
            or not last.profile.learnt
            or last.learnt_at is None
            or now - last.learnt_at >= PROFILE_MAX_AGE
            or (last.weeks, last.statistic) != (settings.weeks, settings.statistic)
        ):
            return reading
        return replace(
            reading,
            profile=last.profile,
            learnt_at=last.learnt_at,
            weeks=last.weeks,
            statistic=last.statistic,
            status=f"{reading.status}: the profile learnt at "
            f"{last.learnt_at.astimezone(self.tz):%a %H:%M} is used",
        )

    async def _async_learn(
        self, settings: InputSettings, start: datetime, now: datetime, today: date
    ) -> HouseReading:
        if "recorder" not in self.hass.config.components:
            return HouseReading(status="the recorder is not running")
        meters = meter_ids(await async_energy_preferences(self.hass))
        if not meters.grid_import:
            return HouseReading(status="the Energy dashboard has no grid import meter")
        own = {parse_slot_key(key): kwh for key, kwh in self.own_kwh.items()}
        recorder = get_instance(self.hass)
        try:
            house, problems = await recorder.async_add_executor_job(
                _read_house, self.hass, meters, start, now, own
            )
        except Exception as err:  # noqa: BLE001 - a database error is no reason to stop
            LOGGER.debug("Reading statistics failed", exc_info=True)
            message = f"the recorder could not be read: {err}"
            return HouseReading(status=message, problems=(message,))
        profile = learn_profile(
            house,
            tz=self.tz,
            before=today,
            weeks=settings.weeks,
            statistic=settings.statistic,
        )
        status = "; ".join(problems)
        if not profile.learnt and not problems:
            status = "the meters' history is too short (two weeks are needed)"
        elif profile.learnt < WEEK_CELLS and not problems:
            status = f"{profile.learnt} of {WEEK_CELLS} weekday half-hours learnt"
        error = forecast_error(
            house,
            tz=self.tz,
            today=today,
            weeks=settings.weeks,
            statistic=settings.statistic,
            fallback_kw=self._fallback_kw(),
        )
        first = today - timedelta(days=7 * settings.weeks)
        return HouseReading(
            profile=profile,
            error=error,
            learnt_at=now,
            weeks=settings.weeks,
            statistic=settings.statistic.value,
            meters=tuple(sorted(meters.all)),
            history_slots=sum(
                1 for slot in house if first <= slot.astimezone(self.tz).date() < today
            ),
            status=status or "learnt",
            problems=tuple(problems),
        )

    def _stored(self) -> dict[str, Any]:
        data = self.data
        profile = None
        if data is not None and data.learnt_at is not None:
            profile = {
                "learnt_at": data.learnt_at.isoformat(),
                "weeks": data.weeks,
                "statistic": data.statistic,
                "kw": {
                    f"{day}-{index}": kw for (day, index), kw in data.profile.kw.items()
                },
            }
        return {"own_kwh": self.own_kwh, "profile": profile}

    async def async_save(self) -> None:
        """Write what hems's loads used and the profile (at unload)."""
        await self._store.async_save(self._stored())


def _read_house(
    hass: HomeAssistant,
    meters: MeterIds,
    start: datetime,
    end: datetime,
    own: Mapping[datetime, float],
) -> tuple[dict[datetime, float], list[str]]:
    """Return the house's kWh per half-hour from the statistics (recorder thread)."""
    problems = []
    metadata = get_metadata(hass, statistic_ids=meters.all)
    usable = set()
    for stat in sorted(meters.all):
        if stat not in metadata:
            problems.append(f"{stat} has no statistics")
        elif (unit_class := metadata[stat][1].get("unit_class")) != "energy":
            problems.append(f"{stat} is not an energy meter ({unit_class})")
        else:
            usable.add(stat)
    units = {"energy": "kWh"}
    types: set[
        Literal["change", "last_reset", "max", "mean", "min", "state", "sum"]
    ] = {"sum"}
    hourly = statistics_during_period(
        hass, start - HOUR, end, usable, "hour", units, types
    )
    five_minute = statistics_during_period(
        hass, start - FIVE_MINUTES, end, usable, "5minute", units, types
    )

    def series(ids: tuple[str, ...]) -> list[dict[datetime, float]]:
        # A meter that cannot be read knows no half-hour: nothing is learnt
        # rather than a house without its solar or battery.
        return meter_series(hourly, five_minute, [i for i in ids if i in usable]) + [
            {} for i in ids if i not in usable
        ]

    house = house_energy(
        Meters(
            grid_import=series(meters.grid_import),
            grid_export=series(meters.grid_export),
            solar=series(meters.solar),
            battery_in=series(meters.battery_in),
            battery_out=series(meters.battery_out),
        ),
        own,
    )
    return house, problems


def _parse_store(
    raw: Any,
) -> tuple[tuple[dict[str, float], HouseReading | None], list[str]]:
    """Return hems's own use and the cached profile that can be trusted."""
    if not isinstance(raw, Mapping):
        raise StoreDataError(f"expected an object, got {type(raw).__name__}")
    dropped: list[str] = []
    own = {}
    for key, value in (raw.get("own_kwh") or {}).items():
        try:
            parse_slot_key(key)
            own[str(key)] = float(value)
        except TypeError, ValueError:
            dropped.append(f"own use {key!r}: {value!r}")
    reading = None
    if (profile := raw.get("profile")) is not None:
        try:
            kw = {}
            for cell, value in profile["kw"].items():
                day, index = (int(part) for part in str(cell).split("-"))
                kw[day, index] = float(value)
            learnt_at = _aware(profile["learnt_at"])
            reading = HouseReading(
                profile=Profile(kw=kw),
                learnt_at=learnt_at,
                weeks=int(profile["weeks"]),
                statistic=str(profile["statistic"]),
                status="learnt before Home Assistant restarted",
            )
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            dropped.append(f"profile: {err!r} (learnt again)")
    return (own, reading), dropped


def _aware(value: Any) -> datetime:
    """Parse a stored time; one without a time zone cannot be trusted."""
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def site_inputs_diagnostics(
    solar: SolarCoordinator, house: HouseLoadCoordinator
) -> dict[str, Any]:
    """Return what the solar forecast and the learnt base load are made of."""
    reading = solar.data
    forecast = reading.forecast if reading else SolarForecast()
    learnt = house.data
    return {
        "solar": {
            "settings": str(solar.settings),
            "source": reading.source.value if reading else None,
            "from": list(reading.used) if reading else [],
            "problems": list(reading.problems) if reading else [],
            "half_hours": len(forecast.kwh),
            "start": forecast.start.isoformat() if forecast.start else None,
            "end": forecast.end.isoformat() if forecast.end else None,
        },
        "house_load": {
            "settings": str(house.settings),
            "status": learnt.status if learnt else None,
            "problems": list(learnt.problems) if learnt else [],
            "meters": list(learnt.meters) if learnt else [],
            "learnt_half_hours": learnt.profile.learnt if learnt else 0,
            "history_half_hours": learnt.history_slots if learnt else 0,
            "learnt_at": learnt.learnt_at.isoformat()
            if learnt and learnt.learnt_at
            else None,
            "own_use_half_hours": len(house.own_kwh),
        },
    }
