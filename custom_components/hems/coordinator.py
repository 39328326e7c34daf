"""The price coordinator: fetches rarely, keeps what it knows, ticks each slot."""

from collections.abc import Callable
from datetime import datetime, timedelta
import math
from typing import TYPE_CHECKING, Any, override
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import (
    BACKOFF_MAX,
    BACKOFF_MIN,
    DOMAIN,
    KEEP_HISTORY,
    LOGGER,
    POLL_FAST_FOR,
    POLL_IDLE,
    POLL_LATE,
    POLL_WAITING,
    PUBLISH_TIME,
    STORAGE_VERSION,
    TOMORROW_MISSING_TIME,
)
from .price_data import PriceData, slot_start
from .prices import (
    SLOT,
    InvalidPriceRecord,
    OctopusRateLimitError,
    PriceSlot,
    PriceSourceError,
    merge_slots,
)
from .sources import MissingEntitiesError, PriceSource
from .storage import StoreDataError, async_load_store

if TYPE_CHECKING:
    from . import HemsConfigEntry


class HemsPriceCoordinator(DataUpdateCoordinator[PriceData]):
    """Keeps the known prices: fetched, merged, validated, cached in storage."""

    config_entry: HemsConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: HemsConfigEntry,
        source: PriceSource,
        *,
        role: str = "prices",
    ) -> None:
        """Initialise the coordinator for one config entry.

        ``role`` tells import ("prices") and export ("export_prices") apart:
        each keeps its own store and repair issues.
        """
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=DOMAIN if role == "prices" else f"{DOMAIN}_{role}",
            update_interval=POLL_IDLE,
            always_update=False,
        )
        self.source = source
        self.tz = ZoneInfo(hass.config.time_zone)
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{config_entry.entry_id}.{role}"
        )
        self.role = role
        # Issue ids of the export prices carry the role; import ones stay as
        # they always were.
        self._issue_suffix = (
            config_entry.entry_id
            if role == "prices"
            else f"{role}_{config_entry.entry_id}"
        )
        self._known: tuple[PriceSlot, ...] = ()
        self._failures = 0
        self._force_fetch = False
        self._rewrite_store = False
        self._unsub_tick: Callable[[], None] | None = None
        self.last_error: str | None = None
        self.last_fetch: datetime | None = None
        self.rejected: tuple[str, ...] = ()
        self.incomplete: str | None = None

    @override
    async def _async_setup(self) -> None:
        """Load the cached prices and start the half-hour ticks."""
        await self._async_load_cache()
        self._schedule_tick()

    @override
    async def async_shutdown(self) -> None:
        """Stop the half-hour ticks."""
        if self._unsub_tick is not None:
            self._unsub_tick()
            self._unsub_tick = None
        await super().async_shutdown()

    async def _async_load_cache(self) -> None:
        """Restore known prices saved by an earlier run of the same source.

        A damaged or unknown store never stops the entry: what can be trusted
        is kept, the rest logged and raised as a repair issue, and the store
        rewritten with good data at the next successful fetch.
        """
        slots, problem = await async_load_store(self.hass, self._store, self._parse)
        self._rewrite_store = problem is not None
        self._known = slots or ()
        LOGGER.debug("Restored %d cached prices", len(self._known))

    def _parse(self, cached: Any) -> tuple[tuple[PriceSlot, ...], list[str]]:
        """Return the trusted slots of the stored data and what was dropped."""
        if not isinstance(cached, dict):
            raise StoreDataError(
                f"expected an object with 'source' and 'slots', "
                f"got {type(cached).__name__}"
            )
        records = cached.get("slots")
        if not isinstance(records, list):
            raise StoreDataError(
                f"field 'slots' is {type(records).__name__}, expected a list"
            )
        if cached.get("source") != self.source.key:
            LOGGER.debug("Dropping cached prices of another source")
            return (), []
        slots: list[PriceSlot] = []
        dropped: list[str] = []
        for record in records:
            try:
                slots.append(PriceSlot.from_dict(record))
            except InvalidPriceRecord as err:
                dropped.append(str(err))
        merged = merge_slots((), slots)
        return merged.slots, dropped + list(merged.rejected)

    def _prune(self, now: datetime) -> None:
        """Forget prices that ended long ago."""
        horizon = now - KEEP_HISTORY
        self._known = tuple(slot for slot in self._known if slot.end > horizon)

    def _data(self) -> PriceData:
        return PriceData(slots=self._known, tz=self.tz)

    def _needs_fetch(self, now: datetime) -> bool:
        """Return whether a half-hour still to come should have a price but has not.

        What should be known is today and, from publication, tomorrow.  A
        hole already past is no reason to poll (the next fetch asks for it
        anyway, see `OctopusApiSource`).
        """
        data = self._data()
        _, end = data.expected_span(now)
        return bool(data.missing(now, end))

    def _until_publish(self, now: datetime) -> timedelta:
        """Return the time until the next publication (always in the future)."""
        local = now.astimezone(self.tz)
        publish = local.replace(
            hour=PUBLISH_TIME.hour, minute=PUBLISH_TIME.minute, second=0, microsecond=0
        )
        if publish <= local:
            publish += timedelta(days=1)
        return publish.astimezone(dt_util.UTC) - now

    def _next_poll(self, now: datetime) -> timedelta:
        """Return the delay to the next poll when the last one succeeded.

        Every 5 minutes for 2 hours from publication while prices are missing,
        then every 30 minutes; hourly (a wake-up, no request) when nothing is.
        """
        if self._needs_fetch(now):
            local = now.astimezone(self.tz)
            published = local.replace(
                hour=PUBLISH_TIME.hour,
                minute=PUBLISH_TIME.minute,
                second=0,
                microsecond=0,
            )
            fast = published <= local < published + POLL_FAST_FOR
            interval = POLL_WAITING if fast else POLL_LATE
        else:
            interval = POLL_IDLE
        return max(min(interval, self._until_publish(now)), timedelta(minutes=1))

    def _backoff(self, err: PriceSourceError, now: datetime) -> timedelta:
        """Return the delay after the n-th failure in a row.

        Doubles from 1 to 30 minutes; a longer `Retry-After` is honoured up to
        30 minutes.  Never past the next publication.
        """
        delay = min(BACKOFF_MIN * (1 << min(self._failures - 1, 16)), BACKOFF_MAX)
        if isinstance(err, OctopusRateLimitError) and err.retry_after is not None:
            asked = err.retry_after
            if not math.isnan(asked):
                capped = min(max(asked, 0.0), BACKOFF_MAX.total_seconds())
                delay = max(delay, timedelta(seconds=capped))
        return max(min(delay, self._until_publish(now)), timedelta(seconds=1))

    @override
    async def _async_update_data(self) -> PriceData:
        """Fetch what is missing; on failure keep serving the known prices."""
        now = dt_util.utcnow()
        self._prune(now)
        force, self._force_fetch = self._force_fetch, False
        if not (force or self._needs_fetch(now)) and self.data is not None:
            self.update_interval = self._next_poll(now)
            self._update_repairs(now)
            return self._data()
        try:
            fetch = await self.source.async_fetch(self._known, now)
        except PriceSourceError as err:
            self._failures += 1
            self.last_error = str(err)
            self.update_interval = self._backoff(err, now)
            self._update_source_repair(err)
            self._update_repairs(now)
            if self._data().slot_at(now) is None:
                raise UpdateFailed(
                    translation_domain=DOMAIN,
                    translation_key="fetch_failed",
                    translation_placeholders={"error": str(err)},
                ) from err
            # Once when the source fails, then quietly until it is back.
            log = LOGGER.warning if self._failures == 1 else LOGGER.debug
            log(
                "Could not fetch prices (attempt %d, retry in %s); "
                "keeping the %d known prices: %s",
                self._failures,
                self.update_interval,
                len(self._known),
                err,
            )
            return self._data()
        if self._failures:
            LOGGER.info("Prices can be fetched again after %d failures", self._failures)
        self._failures = 0
        self.last_error = None
        self.last_fetch = now
        self._update_source_repair(None)
        merged = merge_slots(self._known, fetch.slots)
        # A problem is a warning once; the same one at the next fetch (an
        # entity source reads the same attributes again) only a debug line.
        already = set(self.rejected)
        self.rejected = fetch.rejected + merged.rejected
        self.incomplete = fetch.incomplete
        for message in self.rejected:
            if message in already:
                LOGGER.debug("Still rejected: %s", message)
            else:
                LOGGER.warning("Rejected a price record: %s", message)
        if fetch.incomplete is not None:
            LOGGER.warning(
                "Prices read in part (keeping the %d read): %s",
                len(fetch.slots),
                fetch.incomplete,
            )
        if merged.slots != self._known or self._rewrite_store:
            self._known = merged.slots
            self._prune(now)
            self._rewrite_store = False
            await self._store.async_save(
                {
                    "source": self.source.key,
                    "slots": [slot.as_dict() for slot in self._known],
                }
            )
        self.update_interval = self._next_poll(now)
        self._update_repairs(now)
        return self._data()

    async def async_source_changed(self) -> None:
        """Fetch now: the source says it has new records (entity state change)."""
        self._force_fetch = True
        await self.async_request_refresh()

    @callback
    def _schedule_tick(self) -> None:
        """Wake at the next half-hour boundary."""
        boundary = slot_start(dt_util.utcnow()) + SLOT
        self._unsub_tick = async_track_point_in_utc_time(
            self.hass, self._async_tick, boundary
        )

    async def _async_tick(self, now: datetime) -> None:
        """Push the new slot to the entities without any network call."""
        self._schedule_tick()
        self._update_repairs(now)
        if self.data is not None:
            self.async_update_listeners()

    @callback
    def _update_repairs(self, now: datetime) -> None:
        """Raise or clear the "tomorrow's prices are missing" repair issue."""
        local = now.astimezone(self.tz)
        tomorrow = local.date() + timedelta(days=1)
        issue_id = f"tomorrow_missing_{self._issue_suffix}"
        data = self._data()
        missing = data.missing_in_day(tomorrow)
        if local.time() >= TOMORROW_MISSING_TIME and missing:
            known = data.day(tomorrow)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="tomorrow_missing"
                if self.role == "prices"
                else "export_tomorrow_missing",
                translation_placeholders={
                    "date": tomorrow.isoformat(),
                    "known": str(len(known)),
                    "missing": str(len(missing)),
                    "total": str(len(known) + len(missing)),
                    "error": self.last_error or "-",
                },
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @callback
    def _update_source_repair(self, err: PriceSourceError | None) -> None:
        """Raise or clear the "rates entity missing" repair issue."""
        issue_id = f"rates_entity_missing_{self._issue_suffix}"
        if isinstance(err, MissingEntitiesError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="rates_entity_missing",
                translation_placeholders={"entities": ", ".join(err.entity_ids)},
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
