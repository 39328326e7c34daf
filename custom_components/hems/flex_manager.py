"""Flexibility events in Home Assistant: kept, answered, priced and measured.

`FlexManager` (one per entry, on ``entry.runtime_data.flex``) takes events
from every source, refuses bad ones (a log line and a repair issue, never an
exception into the source), answers them by the household's setting (accept,
ask, decline) or by the household (switch, ``hems.flex_respond``), hands the
accepted ones to the plan as import prices, and after each accepted event
works out what was delivered against the baseline, fires
``hems_flex_delivered`` and keeps the figures.  Events and their state are
kept in a store and survive restarts.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_utc_time_change
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER, STORAGE_VERSION
from .flex import (
    Delivery,
    FlexEvent,
    FlexEventError,
    adjust_prices,
    check_admissible,
    delivery,
    matching_days,
)
from .flex_settings import FlexSettings, Policy
from .prices import PriceSlot
from .storage import StoreDataError, async_load_store

EVENT_FLEX_DELIVERED: Final = "hems_flex_delivered"
# Finished events are kept this long (figures, sensors' attributes).
KEEP_FINISHED: Final = timedelta(days=30)
# After this long past its end an event's delivery is reported as it stands.
REPORT_BY: Final = timedelta(hours=6)
# Readings are a few minutes late: an event is measured this long after it ends.
SETTLE: Final = timedelta(minutes=10)

type UsageReader = Callable[[datetime, datetime], Any]


class Response(StrEnum):
    """Where an event stands with the household."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn by its source


@dataclass(frozen=True, slots=True, kw_only=True)
class FlexRecord:
    """An event and what became of it."""

    event: FlexEvent
    response: Response
    received: datetime
    decided_by: str = "policy"  # "policy", "household" or "source"
    delivery: Delivery | None = None
    reported: bool = False

    @property
    def live(self) -> bool:
        """Return whether it still counts against overlaps (pending or accepted)."""
        return self.response in {Response.PENDING, Response.ACCEPTED}

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form."""
        return {
            "event": self.event.as_dict(),
            "response": str(self.response),
            "received": self.received.isoformat(),
            "decided_by": self.decided_by,
            "delivery": self.delivery.as_dict() if self.delivery else None,
            "reported": self.reported,
        }


def _parse_store(raw: Any) -> tuple[dict[str, FlexRecord], list[str]]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("records"), list):
        raise StoreDataError("expected an object with a list of records")
    records: dict[str, FlexRecord] = {}
    dropped: list[str] = []
    for index, item in enumerate(raw["records"]):
        try:
            event = FlexEvent.from_dict(item["event"])
            figures = item.get("delivery")
            record = FlexRecord(
                event=event,
                response=Response(item["response"]),
                received=datetime.fromisoformat(item["received"]),
                decided_by=str(item.get("decided_by", "policy")),
                delivery=Delivery(**figures) if figures else None,
                reported=bool(item.get("reported", False)),
            )
        except (FlexEventError, KeyError, TypeError, ValueError) as err:
            dropped.append(f"record {index}: {err}")
            continue
        records[event.key] = record
    return records, dropped


class FlexManager:
    """The entry's flexibility events."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        settings: Callable[[], FlexSettings],
        usage: UsageReader,
    ) -> None:
        """Initialise with the settings in force and the grid-import reader."""
        self.hass = hass
        self.entry_id = entry_id
        self.settings = settings
        self._usage = usage
        self.records: dict[str, FlexRecord] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.flex"
        )
        self._listeners: list[Callable[[], None]] = []
        # Called when the accepted events change (the entry re-plans).
        self.on_prices_changed: Callable[[], None] | None = None
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._current: set[str] = set()
        # The baseline kWh expected of each live event not yet begun.
        self.baselines: dict[str, float | None] = {}

    # --- life cycle ----------------------------------------------------------

    async def async_load(self) -> None:
        """Restore the events (whatever cannot be trusted is dropped and said)."""
        records, _ = await async_load_store(self.hass, self._store, _parse_store)
        self.records = records or {}
        self._unsub_timer = async_track_utc_time_change(
            self.hass, self._async_tick, minute=range(0, 60, 5), second=30
        )

    async def async_shutdown(self) -> None:
        """Stop the timer and keep the events."""
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        await self._async_save()

    async def _async_save(self) -> None:
        await self._store.async_save(
            {"records": [record.as_dict() for record in self.records.values()]}
        )

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` whenever the events change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _changed(self, *, prices: bool) -> None:
        for listener in list(self._listeners):
            listener()
        if prices and self.on_prices_changed is not None:
            self.on_prices_changed()

    # --- taking events in ----------------------------------------------------

    def find(self, ref: str) -> FlexRecord | None:
        """Return the record of ``source:id`` or of an id only one source uses."""
        if ref in self.records:
            return self.records[ref]
        matches = [r for r in self.records.values() if r.event.id == ref]
        return matches[0] if len(matches) == 1 else None

    async def async_offer(
        self, event: FlexEvent, *, joined: bool | None = None
    ) -> FlexRecord:
        """Take in a new or changed event; raise `FlexEventError` if refused.

        A refusal is logged and raised as a repair issue of its source.  A
        changed event keeps the household's earlier answer; a new one is
        answered by the setting (an event the household already joined at
        its scheme counts as accepted).
        """
        now = dt_util.utcnow()
        earlier = self.records.get(event.key)
        if earlier is not None and earlier.event == event:
            return earlier
        try:
            check_admissible(
                event,
                now,
                (
                    r.event
                    for r in self.records.values()
                    if r.live and r.event.end > now
                ),
            )
        except FlexEventError as err:
            self._refused(event, str(err))
            raise
        ir.async_delete_issue(self.hass, DOMAIN, f"flex_refused_{event.source}")
        if earlier is not None and earlier.decided_by == "household":
            response, decided_by = earlier.response, earlier.decided_by
        elif joined if joined is not None else event.joined:
            response, decided_by = Response.ACCEPTED, "source"
        else:
            response, decided_by = self._by_policy(), "policy"
        record = FlexRecord(
            event=event, response=response, received=now, decided_by=decided_by
        )
        self.records[event.key] = record
        await self._async_expect(event)
        LOGGER.info(
            "Flexibility event %s (%s, %s to %s): %s",
            event.key,
            event.direction,
            event.start.isoformat(),
            event.end.isoformat(),
            response,
        )
        await self._async_save()
        self._changed(
            prices=Response.ACCEPTED
            in {response, earlier.response if earlier else None}
        )
        return record

    def _by_policy(self) -> Response:
        match self.settings().policy:
            case Policy.AUTO_ACCEPT:
                return Response.ACCEPTED
            case Policy.DECLINE:
                return Response.DECLINED
            case Policy.ASK:
                return Response.PENDING

    def _refused(self, event: FlexEvent | None, reason: str, source: str = "") -> None:
        source = str(event.source) if event else source
        name = event.key if event else source
        LOGGER.warning("Flexibility event %s refused: %s", name, reason)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"flex_refused_{source}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="flex_event_refused",
            translation_placeholders={"event": name, "reason": reason},
        )

    @callback
    def refused(self, source: str, reason: str) -> None:
        """Say (log line, repair issue) that a source sent what cannot be read."""
        self._refused(None, reason, source)

    async def async_respond(self, key: str, *, accept: bool) -> FlexRecord:
        """Record the household's answer (KeyError: no such live event)."""
        record = self.records[key]
        if (
            record.response is Response.CANCELLED
            or record.event.end <= dt_util.utcnow()
        ):
            raise KeyError(key)
        response = Response.ACCEPTED if accept else Response.DECLINED
        if record.response is response and record.decided_by == "household":
            return record
        changed = Response.ACCEPTED in {response, record.response}
        record = replace(record, response=response, decided_by="household")
        self.records[key] = record
        await self._async_save()
        self._changed(prices=changed)
        return record

    async def async_cancel(self, key: str) -> None:
        """Withdraw an event (its source cancelled it; KeyError: unknown)."""
        record = self.records[key]
        if record.response is Response.CANCELLED:
            return
        self.records[key] = replace(
            record, response=Response.CANCELLED, decided_by="source"
        )
        await self._async_save()
        self._changed(prices=record.response is Response.ACCEPTED)

    # --- what the plan sees --------------------------------------------------

    def accepted(self, now: datetime | None = None) -> list[FlexEvent]:
        """Return the accepted events that have not ended."""
        now = now or dt_util.utcnow()
        return [
            r.event
            for r in self.records.values()
            if r.response is Response.ACCEPTED and r.event.end > now
        ]

    def adjust(self, slots: Sequence[PriceSlot]) -> Sequence[PriceSlot]:
        """Return the import prices with the accepted events applied."""
        events = self.accepted()
        if not events or not slots:
            return slots
        values = adjust_prices(
            [(slot.start, slot.end, slot.value) for slot in slots], events
        )
        return tuple(
            slot
            if value is None or value == slot.value
            else PriceSlot(start=slot.start, end=slot.end, value=value)
            for slot, value in zip(slots, values, strict=True)
        )

    # --- what was delivered --------------------------------------------------

    async def _async_usage(self, event: FlexEvent) -> tuple[Any, ZoneInfo]:
        """Return the import readings an event's baseline and metering need."""
        tz = ZoneInfo(self.hass.config.time_zone)
        days = matching_days(event.start.astimezone(tz).date(), event.baseline.days)
        first = min(days) if days else event.start.date()
        since = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        return await self._usage(since, event.end), tz

    async def _async_expect(self, event: FlexEvent) -> None:
        """Work out the baseline of an event not yet begun (None: no data)."""
        usage, tz = await self._async_usage(event)
        self.baselines[event.key] = delivery(event, usage, tz).baseline_kwh

    async def _async_tick(self, now: datetime) -> None:
        await self.async_measure(now)

    async def async_measure(self, now: datetime | None = None) -> None:
        """Work out accepted events that have begun; report those that ended."""
        now = now or dt_util.utcnow()
        changed = False
        for key, record in list(self.records.items()):
            event = record.event
            waiting = event.start > now or record.response is Response.PENDING
            if record.live and event.end > now and waiting:
                before = self.baselines.get(key)
                await self._async_expect(event)
                changed |= self.baselines[key] != before
                continue
            self.baselines.pop(key, None)
            if record.reported or record.response is not Response.ACCEPTED:
                continue
            usage, tz = await self._async_usage(event)
            figures = delivery(event, usage, tz)
            ended = now >= event.end + SETTLE
            final = ended and (figures.complete or now >= event.end + REPORT_BY)
            if figures != record.delivery or final:
                changed = True
                self.records[key] = replace(record, delivery=figures, reported=final)
            if final:
                self._fire_delivered(event, figures)
        changed |= self._prune(now)
        if changed:
            await self._async_save()
        current = {
            key
            for key, record in self.records.items()
            if record.response is not Response.CANCELLED and record.event.end > now
        }
        if changed or current != self._current:
            self._current = current
            self._changed(prices=False)

    def _fire_delivered(self, event: FlexEvent, figures: Delivery) -> None:
        LOGGER.info(
            "Flexibility event %s delivered %s kWh (baseline %s, metered %s)",
            event.key,
            figures.delivered_kwh,
            figures.baseline_kwh,
            figures.metered_kwh,
        )
        self.hass.bus.async_fire(
            EVENT_FLEX_DELIVERED,
            {
                "entry_id": self.entry_id,
                "event": event.key,
                "id": event.id,
                "source": str(event.source),
                "direction": str(event.direction),
                "start": event.start.isoformat(),
                "end": event.end.isoformat(),
                **figures.as_dict(),
            },
        )

    def _prune(self, now: datetime) -> bool:
        old = [
            key
            for key, record in self.records.items()
            if record.event.end < now - KEEP_FINISHED
        ]
        for key in old:
            del self.records[key]
        return bool(old)

    def delivered_total_kwh(self) -> float:
        """Return the delivered kWh of every reported event kept."""
        return round(
            sum(
                max(0.0, r.delivery.delivered_kwh)
                for r in self.records.values()
                if r.reported and r.delivery and r.delivery.delivered_kwh is not None
            ),
            4,
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return every kept event and what became of it."""
        return {
            "settings": str(self.settings()),
            "events": [record.as_dict() for record in self.records.values()],
        }
