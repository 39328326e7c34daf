"""The OpenADR VEN against openleadr's own VTN server on loopback.

Real time (openleadr's scheduler and event status follow the clock): prices
are the recorded Agile history replayed onto today.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from openleadr.messaging import parse_message
import pytest

from custom_components.hems.const import DOMAIN
from custom_components.hems.flex import Direction, read_event
from custom_components.hems.price_data import slot_start

from .openadr_vtn import Vtn, set_up, unreachable, until

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
async def vtn(socket_enabled: None) -> AsyncIterator[Vtn]:
    server = Vtn()
    await server.server.run()
    yield server
    await server.server.stop()


async def test_the_ven_takes_part_by_the_households_setting(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=2)
    vtn.add_event("evt-1", start, payload=2.0)
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


async def test_an_answer_the_vtn_did_not_take_is_sent_again(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, caplog: pytest.LogCaptureFixture
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=2)
    vtn.add_event("evt-3", start)
    # The answer to the first sync and to the first poll (which delivers the
    # event again) meet an HTTP 503.
    vtn.refuse_answers = 2
    entry = await set_up(
        hass,
        tmp_path,
        {
            "policy": "auto_accept",
            "openadr_vtn_url": vtn.url,
            "openadr_poll_seconds": 1,
        },
    )
    # The VEN sends it again after the next poll.
    await until(lambda: vtn.opts == ["optIn"])
    assert [r["opt_type"] for r in vtn.created_events()] == ["optIn"] * 3
    assert "sending optIn for event evt-3 (not acknowledged yet)" in caplog.text
    # Acknowledged: not sent a third time, the problem gone.
    polls = len(vtn.bodies)
    await until(lambda: len(vtn.bodies) >= polls + 2)
    assert len(vtn.created_events()) == 3
    assert unreachable(hass) is None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


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
