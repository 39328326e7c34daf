"""An OpenADR 2.0b VEN (openleadr) that turns the VTN's events into flexibility events.

Registers with the VTN of the settings (VEN name, optional VEN id; a
certificate and key, PEM text or files, sign messages and are the TLS client
certificate; a CA checks an https VTN; the VTN's fingerprint checks its
signatures), polls at the VTN's requested interval but at least as often as
the setting, and answers each event by the household's setting: ``optIn``
when accepted, ``optOut`` when declined, refused or not answered yet (a later
answer of the household is sent as a new ``oadrCreatedEvent``).  An answer
the VTN has not acknowledged is sent again after each poll it answers, until
it is or the event ends.  A telemetry report (``TELEMETRY_USAGE``, energy in
Wh) gives the grid import metered during the latest accepted OpenADR event
(resource ``grid_import``) and what it delivered against the baseline
(resource ``delivered``).  A VTN that cannot be reached, or whose answers
cannot be read, is a repair issue saying why (openadr_client.py); it goes
when the VTN answers again; registration is tried again every 5 minutes.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from http import HTTPStatus
import logging
import ssl
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .flex import Delivery, FlexEventError, Source, read_event
from .flex_manager import FlexManager, Response
from .flex_settings import CONF_CA, CONF_CERT, CONF_FINGERPRINT, CONF_KEY, FlexSettings
from .openadr_answers import Answer
from .openadr_tls import (
    VenCredentials,
    check_fingerprint,
    client_context,
    read_credentials,
)

RETRY: Final = timedelta(minutes=5)
ISSUE: Final = "openadr_unreachable"
# The VTN picks how often the VEN reports, within these bounds.
REPORT_MIN: Final = timedelta(seconds=10)
REPORT_MAX: Final = timedelta(hours=1)
CREDENTIAL_FIELDS: Final = {"cert": CONF_CERT, "key": CONF_KEY, "ca": CONF_CA}


class OpenAdrVen:
    """The VEN of one entry."""

    def __init__(
        self, hass: HomeAssistant, flex: FlexManager, settings: FlexSettings
    ) -> None:
        """Initialise with the settings in force (a VTN URL is set)."""
        self.hass = hass
        self.flex = flex
        self.settings = settings
        self.client: Any = None
        # Per event id: hems's answer, the last one the VTN acknowledged, the
        # event's modification number and end; the events the VTN wants
        # answered (openleadr sent an answer).
        self._answer: dict[str, Answer] = {}
        self._heard: dict[str, Answer] = {}
        self._expected: set[str] = set()
        self._modification: dict[str, int] = {}
        self._ends: dict[str, datetime] = {}
        self._resending = asyncio.Lock()
        self._stopping = False
        self._problem: str | None = None
        self._unsub: Callable[[], None] | None = None

    def start(self) -> Callable[[], None]:
        """Run the VEN in the background; return what stops it."""
        task = self.hass.async_create_background_task(
            self._async_run(), "hems OpenADR VEN"
        )
        self._unsub = self.flex.async_add_listener(self._answers_changed)

        def _stop() -> None:
            self._stopping = True
            if self._unsub is not None:
                self._unsub()
            task.cancel()
            if self.client is not None:
                self.hass.async_create_background_task(
                    self._async_stop_client(self.client), "hems OpenADR VEN stop"
                )

        return _stop

    async def _async_stop_client(self, client: Any) -> None:
        try:
            await client.stop()
        except Exception:  # noqa: BLE001 - a client half started: nothing to stop
            LOGGER.debug("Stopping the OpenADR client failed", exc_info=True)

    def _credentials(self) -> tuple[VenCredentials, ssl.SSLContext | None]:
        """Read the certificates of the settings (blocking); PemError if bad."""
        credentials = read_credentials(self.settings, CREDENTIAL_FIELDS)
        https = str(self.settings.vtn_url).lower().startswith("https:")
        return credentials, client_context(credentials) if https else None

    async def _async_new_client(self) -> Any:
        # Imported only when a VTN is configured.
        from openleadr.objects import SamplingRate  # noqa: PLC0415

        from .openadr_client import VenClient  # noqa: PLC0415

        settings = self.settings
        credentials, tls = await self.hass.async_add_executor_job(self._credentials)
        fingerprint = check_fingerprint(CONF_FINGERPRINT, settings.vtn_fingerprint)
        logging.getLogger("openleadr").setLevel(logging.WARNING)
        client = VenClient(
            self,
            poll=timedelta(seconds=settings.poll_seconds),
            credentials=credentials,
            tls=tls,
            ven_name=settings.ven_name,
            vtn_url=settings.vtn_url,
            ven_id=settings.ven_id,
            vtn_fingerprint=fingerprint,
            show_fingerprint=False,
        )
        client.add_handler("on_event", self._async_on_event)
        client.add_handler("on_update_event", self._async_on_event)
        for resource, reading in (
            ("grid_import", self._metered_wh),
            ("delivered", self._delivered_wh),
        ):
            client.add_report(
                callback=reading,
                resource_id=resource,
                measurement="energy_real",
                unit="Wh",
                report_name="TELEMETRY_USAGE",
                sampling_rate=SamplingRate(
                    min_period=REPORT_MIN, max_period=REPORT_MAX, on_change=False
                ),
                report_duration=timedelta(hours=24),
            )
        return client

    async def _async_run(self) -> None:
        """Register and poll; try again while the VTN cannot be reached."""
        while not self._stopping:
            client = None
            try:
                client = self.client = await self._async_new_client()
                await client.run()
            except Exception as err:  # noqa: BLE001 - never let the VTN stop hems
                LOGGER.debug("OpenADR client failed", exc_info=True)
                registered = False
                reason = f"{type(err).__name__}: {err}"
            else:
                registered = client.registration_id is not None
                reason = "it did not register this VEN"
            if registered:
                return  # openleadr polls from here on (its own scheduler)
            self._unusable(self._problem or reason)  # a failed request says why
            if client is not None:
                await self._async_stop_client(client)
            self.client = None
            await asyncio.sleep(RETRY.total_seconds())

    def _unusable(self, reason: str) -> None:
        if self._problem == reason:
            return
        self._problem = reason
        LOGGER.warning(
            "OpenADR VTN %s cannot be used: %s", self.settings.vtn_url, reason
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            ISSUE,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE,
            translation_placeholders={
                "url": str(self.settings.vtn_url),
                "reason": reason,
            },
        )

    def answered(self, problem: str | None) -> None:
        """Note a request's outcome (a repair issue while the VTN cannot be used)."""
        if self._stopping:  # a request cut short by the unload
            return
        if problem is not None:
            self._unusable(problem)
        elif self._problem is not None:
            LOGGER.info("OpenADR VTN %s answers again", self.settings.vtn_url)
            self._problem = None
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE)

    def sending(self, answer: Answer) -> None:
        """Note an answer to an event being sent: the VTN wants it."""
        self._expected.add(answer.event_id)

    def acknowledged(self, answers: list[Answer], code: int | None) -> None:
        """Note what the VTN said to answers (None: nothing; sent again later)."""
        if code is None:
            return
        for answer in answers:
            if code != HTTPStatus.OK:
                LOGGER.warning(
                    "OpenADR VTN %s refused the answer %s to event %s (code %s)",
                    self.settings.vtn_url,
                    answer.opt,
                    answer.event_id,
                    code,
                )
            self._heard[answer.event_id] = answer

    async def async_polled(self) -> None:
        """After a poll the VTN answered: send it the answers it has not had."""
        if self._problem is None:
            await self._async_resend()

    async def _async_resend(self) -> None:
        async with self._resending:
            now = dt_util.utcnow()
            for event_id in sorted(self._expected):
                end = self._ends.get(event_id)
                if end is not None and end <= now:
                    self._expected.discard(event_id)
                    continue
                client = self.client
                if (
                    self._stopping
                    or client is None
                    or client.registration_id is None
                    or self._problem is not None
                ):
                    return
                answer = self._answer.get(event_id)
                if answer is None or self._heard.get(event_id) == answer:
                    continue
                LOGGER.info(
                    "OpenADR: sending %s for event %s (not acknowledged yet)",
                    answer.opt,
                    event_id,
                )
                await client.created_event(
                    request_id=event_id,
                    event_id=event_id,
                    opt_type=answer.opt,
                    modification_number=answer.modification,
                )

    async def _async_on_event(self, raw: dict[str, Any]) -> str:
        """Answer an event (new or changed): ``optIn`` only when accepted."""
        descriptor = raw.get("event_descriptor") or {}
        event_id = str(descriptor.get("event_id", ""))
        modification = int(descriptor.get("modification_number") or 0)
        self._modification[event_id] = modification
        period = raw.get("active_period") or {}
        start, length = period.get("dtstart"), period.get("duration")
        if isinstance(start, datetime) and isinstance(length, timedelta) and length:
            self._ends[event_id] = start + length
        opt = await self._async_answer(event_id, raw)
        self._answer[event_id] = Answer(event_id, opt, modification)
        return opt

    async def _async_answer(self, event_id: str, raw: dict[str, Any]) -> str:
        try:
            read = read_event(raw, level_uplift_p=self.settings.level_uplift_p)
        except FlexEventError as err:
            self.flex.refused(str(Source.OPENADR), f"event {event_id}: {err}")
            return "optOut"
        key = f"{Source.OPENADR}:{read.event_id}"
        if read.event is None:
            if key in self.flex.records:
                await self.flex.async_cancel(key)
            return "optOut"
        try:
            record = await self.flex.async_offer(read.event)
        except FlexEventError:
            return "optOut"
        accepted = record.response is Response.ACCEPTED
        return "optIn" if accepted else "optOut"

    @callback
    def _answers_changed(self) -> None:
        """Send the household's later answers to the VTN."""
        changed = False
        for record in self.flex.records.values():
            event = record.event
            if event.source is not Source.OPENADR or event.id not in self._answer:
                continue
            opt = "optIn" if record.response is Response.ACCEPTED else "optOut"
            if self._answer[event.id].opt == opt:
                continue
            modification = self._modification.get(event.id, 0)
            self._answer[event.id] = Answer(event.id, opt, modification)
            if self.client is not None:
                # openleadr repeats its own copy when the VTN sends the event again.
                self.client.responded_events[event.id] = opt
            changed = changed or event.id in self._expected
        if changed and not self._stopping:
            self.hass.async_create_background_task(
                self._async_resend(), "hems OpenADR answers"
            )

    def _latest(self) -> Delivery | None:
        """Return the figures of the latest accepted OpenADR event measured."""
        measured = [
            record
            for record in self.flex.records.values()
            if record.event.source is Source.OPENADR
            and record.response is Response.ACCEPTED
            and record.delivery is not None
        ]
        if not measured:
            return None
        return max(measured, key=lambda record: record.event.start).delivery

    def _metered_wh(self) -> float:
        """Return the grid import (Wh) metered in the latest accepted event."""
        latest = self._latest()
        return round((latest.metered_kwh or 0.0) * 1000, 1) if latest else 0.0

    def _delivered_wh(self) -> float:
        """Return the energy (Wh) the latest accepted event delivered so far."""
        latest = self._latest()
        return round((latest.delivered_kwh or 0.0) * 1000, 1) if latest else 0.0
