"""openleadr's own VTN for the VEN's tests, with what it received recorded."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
import socket
from typing import Any

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from openleadr import OpenADRServer
from openleadr.messaging import parse_message
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import CONF_REPLAY_FILE, CONF_SOURCE, DOMAIN
from tests.conftest import AGILE_CSV_GZ
from tests.openleadr_vtn import fix_openleadr_vtn

VEN_ID = "ven-hems-1"
PREFIX = "/OpenADR2/Simple/2.0b"
GARBAGE = b"<oadr:oadrPayload><unclosed>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until(check: Callable[[], bool], seconds: float = 60) -> None:
    """Wait, bounded (the VEN polls every second; a loaded machine is slow)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


@dataclass(frozen=True, slots=True)
class VtnTls:
    """The VTN's certificate and key files, its CA, and the VEN's fingerprint."""

    cert: Path
    key: Path
    ca: Path
    ven_fingerprint: str


class Vtn:
    """openleadr's VTN with what it received recorded."""

    def __init__(self, tls: VtnTls | None = None) -> None:
        """Make the server on a free loopback port (not started).

        With ``tls`` it serves https (VEN certificates required), signs its
        messages and checks the VEN's signatures against its fingerprint.
        """
        self.port = free_port()
        self.tls = tls
        secure: dict[str, Any] = {}
        if tls is not None:
            secure = {
                "cert": str(tls.cert),
                "key": str(tls.key),
                "http_cert": str(tls.cert),
                "http_key": str(tls.key),
                "http_ca_file": str(tls.ca),
                "ven_lookup": self._lookup,
            }
        self.server = OpenADRServer(
            vtn_id="TestVTN",
            http_host="127.0.0.1",
            http_port=self.port,
            requested_poll_freq=timedelta(seconds=1),
            show_fingerprint=False,
            **secure,
        )
        self.bodies: list[bytes] = []
        # How many of the next answers (oadrCreatedEvent) fail with HTTP 503.
        self.refuse_answers = 0
        # While set, polls are answered with malformed XML.
        self.garbage = False
        self.opts: list[str] = []
        self.reports: list[Any] = []
        fix_openleadr_vtn()
        self.server.add_handler("on_create_party_registration", self._register)
        self.server.add_handler("on_register_report", self._register_report)

        @web.middleware
        async def record(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            body = await request.read()
            self.bodies.append(body)
            if self.garbage and request.path.endswith("/OadrPoll"):
                return web.Response(body=GARBAGE, content_type="application/xml")
            if b"oadrCreatedEvent" in body and self.refuse_answers:
                self.refuse_answers -= 1
                return web.Response(status=503, text="busy")
            return await handler(request)

        self.server.app.middlewares.append(record)

    @property
    def url(self) -> str:
        """Return the URL the VEN is given."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{PREFIX}"

    def _lookup(self, ven_id: str | None) -> dict[str, Any]:
        assert self.tls is not None
        return {
            "ven_id": VEN_ID,
            "ven_name": "hems",
            "registration_id": "reg-1",
            "fingerprint": self.tls.ven_fingerprint,
        }

    def _register(self, info: dict[str, Any]) -> tuple[str, str]:
        return VEN_ID, "reg-1"

    def _register_report(
        self,
        ven_id: str,
        resource_id: str,
        measurement: str,
        unit: str,
        scale: str,
        min_sampling_interval: timedelta,
        max_sampling_interval: timedelta,
    ) -> tuple[Callable[[Any], None], timedelta]:
        def received(data: Any) -> None:
            self.reports.append((resource_id, data))

        return received, min_sampling_interval

    def opted(self, ven_id: str, event_id: str, opt_type: str) -> None:
        """Record the VEN's first answer to an event."""
        self.opts.append(opt_type)

    def add_event(
        self,
        event_id: str,
        start: datetime,
        *,
        duration: timedelta = timedelta(minutes=30),
        signal_name: str = "simple",
        signal_type: str = "level",
        payload: float = 1.0,
    ) -> None:
        """Queue a one-interval event for the VEN (30 minutes unless told)."""
        self.server.add_event(
            ven_id=VEN_ID,
            signal_name=signal_name,
            signal_type=signal_type,
            intervals=[
                {
                    "dtstart": start,
                    "duration": duration,
                    "signal_payload": payload,
                }
            ],
            callback=self.opted,
            event_id=event_id,
        )

    def created_events(self) -> list[dict[str, Any]]:
        """Return every answer the VEN sent (oadrCreatedEvent), in order."""
        found = []
        for body in self.bodies:
            if b"oadrCreatedEvent" in body:
                _, payload = parse_message(body)
                found.extend(payload["event_responses"])
        return found


async def set_up(
    hass: HomeAssistant, tmp_path: Path, flex: dict[str, Any]
) -> MockConfigEntry:
    path = tmp_path / "agile.csv.gz"
    path.write_bytes(AGILE_CSV_GZ.read_bytes())
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_SOURCE: "replay", CONF_REPLAY_FILE: str(path)},
        options={"flex": flex},
        entry_id="HEMS",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


def unreachable(hass: HomeAssistant) -> ir.IssueEntry | None:
    """Return the repair issue of a VTN that cannot be used."""
    return ir.async_get(hass).async_get_issue(DOMAIN, "openadr_unreachable")
