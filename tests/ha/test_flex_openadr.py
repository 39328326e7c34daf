"""The OpenADR VEN against openleadr's own VTN server on loopback.

Real time (openleadr's scheduler and event status follow the clock): prices
are the recorded Agile history replayed onto today.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
import socket
from typing import Any

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from openleadr import OpenADRServer
from openleadr.messaging import parse_message
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import CONF_REPLAY_FILE, CONF_SOURCE, DOMAIN
from custom_components.hems.flex import Direction, read_event
from custom_components.hems.price_data import slot_start
from tests.conftest import AGILE_CSV_GZ
from tests.openleadr_vtn import fix_openleadr_vtn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VEN_ID = "ven-hems-1"
PREFIX = "/OpenADR2/Simple/2.0b"


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


class Vtn:
    """openleadr's VTN with what it received recorded."""

    def __init__(self) -> None:
        """Make the server on a free loopback port (not started)."""
        self.port = free_port()
        self.server = OpenADRServer(
            vtn_id="TestVTN",
            http_host="127.0.0.1",
            http_port=self.port,
            requested_poll_freq=timedelta(seconds=1),
            show_fingerprint=False,
        )
        self.bodies: list[bytes] = []
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
            self.bodies.append(await request.read())
            return await handler(request)

        self.server.app.middlewares.append(record)

    @property
    def url(self) -> str:
        """Return the URL the VEN is given."""
        return f"http://127.0.0.1:{self.port}{PREFIX}"

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

    def created_events(self) -> list[dict[str, Any]]:
        """Return every answer the VEN sent (oadrCreatedEvent), in order."""
        found = []
        for body in self.bodies:
            if b"oadrCreatedEvent" in body:
                _, payload = parse_message(body)
                found.extend(payload["event_responses"])
        return found


@pytest.fixture
async def vtn(socket_enabled: None) -> AsyncIterator[Vtn]:
    server = Vtn()
    await server.server.run()
    yield server
    await server.server.stop()


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


async def test_the_ven_takes_part_by_the_households_setting(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=2)
    vtn.server.add_event(
        ven_id=VEN_ID,
        signal_name="simple",
        signal_type="level",
        intervals=[
            {"dtstart": start, "duration": timedelta(minutes=30), "signal_payload": 2.0}
        ],
        callback=vtn.opted,
        event_id="evt-1",
    )
    entry = await set_up(
        hass,
        tmp_path,
        {
            "policy": "ask",
            "openadr_vtn_url": vtn.url,
            "openadr_ven_name": "hems-test",
            "openadr_poll_seconds": 1,
        },
    )
    flex = entry.runtime_data.flex
    await until(lambda: bool(vtn.opts))
    # Asked, not answered yet: not taking part (for now).
    assert vtn.opts == ["optOut"]
    record = flex.records["openadr:evt-1"]
    assert record.response == "pending"
    assert record.event.direction is Direction.DOWN
    assert [ask.price_delta for ask in record.event.asks] == [20.0]
    # The household takes part: the VTN hears optIn, the plan sees the uplift.
    await hass.services.async_call(
        DOMAIN, "flex_respond", {"event": "evt-1", "response": "accept"}, blocking=True
    )
    await until(lambda: [r["opt_type"] for r in vtn.created_events()][-1:] == ["optIn"])
    await hass.async_block_till_done(wait_background_tasks=True)
    schedule = entry.runtime_data.plan.data
    assert schedule is not None
    index = schedule.slot_starts.index(start)
    tariff = entry.runtime_data.prices.data.slot_at(start)
    assert tariff is not None
    assert schedule.prices[index] == pytest.approx(tariff.value + 20, abs=1e-3)
    # Telemetry: the VEN reports its metered usage (Wh) to the VTN.
    await until(
        lambda: (
            {resource for resource, _ in vtn.reports} == {"grid_import", "delivered"}
        ),
        seconds=90,
    )
    # Nothing metered or delivered yet: the event is ahead.
    assert {data[0][1] for _, data in vtn.reports} == {0.0}
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_an_unknown_signal_is_opted_out_and_a_repair_issue(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=1)
    vtn.server.add_event(
        ven_id=VEN_ID,
        signal_name="BID_LOAD",
        signal_type="setpoint",
        intervals=[
            {"dtstart": start, "duration": timedelta(minutes=30), "signal_payload": 1.0}
        ],
        callback=vtn.opted,
        event_id="evt-2",
    )
    entry = await set_up(
        hass,
        tmp_path,
        {
            "policy": "auto_accept",
            "openadr_vtn_url": vtn.url,
            "openadr_poll_seconds": 1,
        },
    )
    await until(lambda: bool(vtn.opts))
    assert vtn.opts == ["optOut"]
    assert entry.runtime_data.flex.records == {}
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "flex_refused_openadr")
    assert issue is not None
    assert (
        "BID_LOAD 'setpoint' is not supported"
        in issue.translation_placeholders["reason"]
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_vtn_that_sends_malformed_xml_is_a_repair_issue(
    hass: HomeAssistant, tmp_path: Path, socket_enabled: None
) -> None:
    answered: list[str] = []

    async def garbage(request: web.Request) -> web.Response:
        answered.append(request.path)
        return web.Response(
            body=b"<oadr:oadrPayload><unclosed>", content_type="application/xml"
        )

    app = web.Application()
    app.router.add_post(PREFIX + "/{service}", garbage)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        entry = await set_up(
            hass,
            tmp_path,
            {"openadr_vtn_url": f"http://127.0.0.1:{port}{PREFIX}"},
        )
        await until(
            lambda: (
                ir.async_get(hass).async_get_issue(DOMAIN, "openadr_unreachable")
                is not None
            )
        )
        assert answered[0] == PREFIX + "/EiRegisterParty"
        assert entry.state is ConfigEntryState.LOADED
        assert entry.runtime_data.plan.data is not None
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("fixture", "direction", "asks"),
    [
        ("openadr_distribute_event_sample.xml", Direction.DOWN, 4),
        ("openadr_distribute_event_openleadr_docs.xml", Direction.DOWN, 9),
    ],
)
def test_the_recorded_payloads_as_openleadr_parses_them(
    fixture: str, direction: Direction, asks: int
) -> None:
    kind, payload = parse_message((FIXTURES / fixture).read_bytes())
    assert kind == "oadrDistributeEvent"
    (raw,) = payload["events"]
    read = read_event(raw)
    assert read.event is not None
    assert read.event.direction is direction
    assert len(read.event.asks) == asks
