"""Where flexibility events come from in Home Assistant: Octopus Energy, MQTT.

- Octoplus saving sessions: the Octopus Energy integration's saving-session
  event entity (the setting, else the one found by its name).  Accepting a
  session not yet joined calls ``octopus_energy.join_octoplus_saving_session_event``
  (when that service exists): joining stays the household's choice.
- Free electricity: an entity whose attributes list sessions (``data`` or
  ``events``: ``start``, ``end``, ``code``), or the Octopus Energy free
  electricity calendar (its events of the next 14 days).  Read when it
  changes and every half-hour: a listed session more than 14 days ahead
  (further than the manager takes events) is offered once it comes within
  reach, passed ones not at all.
- MQTT (fleet operators): JSON events on the configured topic, answered on
  ``<topic>/ack`` (see mqtt_flex.py).
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .const import LOGGER
from .flex import (
    FlexEvent,
    FlexEventError,
    Source,
    free_electricity_sessions,
    saving_sessions,
)
from .flex.rules import MAX_AHEAD
from .flex_manager import FlexManager, Response
from .flex_settings import FlexSettings
from .mqtt_flex import MqttFlex
from .openadr_ven import OpenAdrVen

if TYPE_CHECKING:
    from . import HemsConfigEntry

OE_DOMAIN: Final = "octopus_energy"
OE_JOIN: Final = "join_octoplus_saving_session_event"
SAVING_SESSION_SUFFIX: Final = "_octoplus_saving_session_events"
CALENDAR_AHEAD: Final = timedelta(days=14)
CALENDAR_POLL: Final = timedelta(minutes=30)


def saving_session_entity(hass: HomeAssistant, settings: FlexSettings) -> str | None:
    """Return the saving-session entity: the chosen one, else the one found."""
    if settings.saving_session_entity:
        return settings.saving_session_entity
    found = sorted(
        entity_id
        for entity_id in hass.states.async_entity_ids("event")
        if entity_id.startswith(f"event.{OE_DOMAIN}_")
        and entity_id.endswith(SAVING_SESSION_SUFFIX)
    )
    return found[0] if found else None


def async_follow_flex_sources(
    hass: HomeAssistant, entry: HemsConfigEntry, flex: FlexManager
) -> Callable[[], None]:
    """Follow the configured sources; return what stops following them."""
    return FlexSources(hass, flex, FlexSettings.from_options(entry.options)).start()


class FlexSources:
    """The Octopus Energy entities and the MQTT topic an entry follows."""

    def __init__(
        self, hass: HomeAssistant, flex: FlexManager, settings: FlexSettings
    ) -> None:
        """Initialise with the settings in force."""
        self.hass = hass
        self.flex = flex
        self.settings = settings
        self._unsubs: list[Callable[[], None]] = []
        self._readers: dict[str, Callable[[str], Any]] = {}
        self._join_asked: set[str] = set()

    def start(self) -> Callable[[], None]:
        """Start following; return what stops it."""
        self._unsubs.append(async_at_started(self.hass, self._started))
        self._unsubs.append(self.flex.async_add_listener(self._join_accepted))
        if self.settings.mqtt_topic:
            self._unsubs.append(MqttFlex(self.hass, self.flex, self.settings).start())
        if self.settings.vtn_url:
            self._unsubs.append(OpenAdrVen(self.hass, self.flex, self.settings).start())
        return self._stop

    def _stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    @callback
    def _started(self, _: HomeAssistant) -> None:
        if (entity_id := saving_session_entity(self.hass, self.settings)) is not None:
            self._readers[entity_id] = self._async_read_sessions
        free = self.settings.free_electricity_entity
        if free:
            self._readers[free] = self._async_read_free
        if not self._readers:
            return
        for entity_id, read in self._readers.items():
            self.hass.async_create_task(read(entity_id))
        self._unsubs.append(
            async_track_state_change_event(
                self.hass, list(self._readers), self._async_changed
            )
        )
        if free:
            self._unsubs.append(
                async_track_time_interval(self.hass, self._async_poll, CALENDAR_POLL)
            )

    async def _async_changed(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        await self._readers[entity_id](entity_id)

    async def _async_poll(self, _: datetime) -> None:
        if self.settings.free_electricity_entity:
            await self._async_read_free(self.settings.free_electricity_entity)

    async def _async_offer_all(
        self, events: list[FlexEvent], problems: list[str], source: Source
    ) -> None:
        """Offer what lies ahead; then say what could not be read."""
        now = dt_util.utcnow()
        for event in events:
            if event.end <= now:
                continue  # a past session the scheme still lists
            if event.start > now + MAX_AHEAD:
                continue  # offered when a later read finds it within reach
            try:
                await self.flex.async_offer(event)
            except FlexEventError:
                continue  # logged and raised as a repair issue by the manager
        for problem in problems:
            self.flex.refused(str(source), problem)

    async def _async_read_sessions(self, entity_id: str) -> None:
        state = self.hass.states.get(entity_id)
        if state is None:
            return
        events, problems = saving_sessions(
            state.attributes, pence_per_point=self.settings.pence_per_point
        )
        await self._async_offer_all(events, problems, Source.OCTOPUS_SAVING_SESSION)

    async def _async_read_free(self, entity_id: str) -> None:
        data: Any
        if entity_id.startswith("calendar."):
            data = await self._async_calendar_sessions(entity_id)
        elif (state := self.hass.states.get(entity_id)) is not None:
            data = state.attributes.get("data", state.attributes.get("events"))
        else:
            return
        if data is None:
            return
        events, problems = free_electricity_sessions(data)
        await self._async_offer_all(events, problems, Source.OCTOPUS_FREE_ELECTRICITY)

    async def _async_calendar_sessions(
        self, entity_id: str
    ) -> list[Mapping[str, Any]] | None:
        """Return the calendar's events of the next 14 days as sessions."""
        now = dt_util.utcnow()
        try:
            response: Any = await self.hass.services.async_call(
                "calendar",
                "get_events",
                {
                    "entity_id": entity_id,
                    "start_date_time": now,
                    "end_date_time": now + CALENDAR_AHEAD,
                },
                blocking=True,
                return_response=True,
            )
        except Exception as err:  # noqa: BLE001 - a calendar that fails: nothing new
            LOGGER.debug("Could not read %s: %s", entity_id, err)
            return None
        found = (response or {}).get(entity_id)
        events = found.get("events", []) if isinstance(found, Mapping) else []
        return [
            {
                "start": event.get("start"),
                "end": event.get("end"),
                "code": event.get("uid") or event.get("start"),
            }
            for event in events
            if isinstance(event, Mapping)
        ]

    @callback
    def _join_accepted(self) -> None:
        """Join accepted saving sessions at Octopus (once each), when OE can."""
        entity_id = saving_session_entity(self.hass, self.settings)
        if entity_id is None or not self.hass.services.has_service(OE_DOMAIN, OE_JOIN):
            return
        for record in self.flex.records.values():
            event = record.event
            if (
                event.source is not Source.OCTOPUS_SAVING_SESSION
                or record.response is not Response.ACCEPTED
                or event.joined
                or not event.code
                or event.key in self._join_asked
            ):
                continue
            self._join_asked.add(event.key)
            LOGGER.info("Joining Octoplus saving session %s", event.code)
            self.hass.async_create_task(
                self.hass.services.async_call(
                    OE_DOMAIN,
                    OE_JOIN,
                    {"entity_id": entity_id, "event_code": event.code},
                    blocking=True,
                )
            )
