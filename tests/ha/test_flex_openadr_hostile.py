"""Bad or hostile VTNs and events: a log line and a repair issue, never a crash.

openleadr's own VTN on loopback (a raw aiohttp server where it must answer
garbage); each case checks the repair issue, the log and that the plan goes on.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest

from custom_components.hems.const import DOMAIN
from custom_components.hems.price_data import slot_start

from .openadr_vtn import (
    GARBAGE,
    PREFIX,
    VEN_ID,
    Vtn,
    free_port,
    set_up,
    unreachable,
    until,
)


@pytest.fixture
async def vtn(socket_enabled: None) -> AsyncIterator[Vtn]:
    server = Vtn()
    await server.server.run()
    yield server
    await server.server.stop()


async def test_a_vtn_that_goes_away_is_told_the_answer_when_back(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, caplog: pytest.LogCaptureFixture
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=2)
    vtn.add_event("evt-4", start)
    entry = await set_up(
        hass,
        tmp_path,
        {"policy": "ask", "openadr_vtn_url": vtn.url, "openadr_poll_seconds": 1},
    )
    await until(lambda: vtn.opts == ["optOut"])
    # The VTN disconnects mid-session: a log line and a repair issue.
    await vtn.server.stop()
    await until(lambda: unreachable(hass) is not None)
    issue = unreachable(hass)
    assert issue is not None
    # (to whichever request came first: a poll, a report)
    assert issue.translation_placeholders["reason"].startswith("no connection to ")
    assert f"OpenADR VTN {vtn.url} cannot be used: no connection" in caplog.text
    # The household takes part meanwhile: the answer cannot be sent yet ...
    await hass.services.async_call(
        DOMAIN, "flex_respond", {"event": "evt-4", "response": "accept"}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    schedule = entry.runtime_data.plan.data
    assert schedule is not None
    assert start in schedule.slot_starts
    # ... and reaches the VTN once it is back; the repair issue goes.
    await vtn.server.run()
    await until(lambda: [r["opt_type"] for r in vtn.created_events()][-1:] == ["optIn"])
    await until(lambda: unreachable(hass) is None)
    assert f"OpenADR VTN {vtn.url} answers again" in caplog.text
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_an_unknown_signal_is_opted_out_and_a_repair_issue(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, caplog: pytest.LogCaptureFixture
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=1)
    vtn.add_event("evt-2", start, signal_name="BID_LOAD", signal_type="setpoint")
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
    assert "Flexibility event openadr refused: event evt-2: " in caplog.text
    assert entry.runtime_data.plan.data is not None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_vtn_that_sends_malformed_xml_is_a_repair_issue(
    hass: HomeAssistant, tmp_path: Path, socket_enabled: None
) -> None:
    answered: list[str] = []

    async def garbage(request: web.Request) -> web.Response:
        answered.append(request.path)
        return web.Response(body=GARBAGE, content_type="application/xml")

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


async def test_malformed_xml_mid_session_is_a_repair_issue_until_it_stops(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await set_up(
        hass, tmp_path, {"openadr_vtn_url": vtn.url, "openadr_poll_seconds": 1}
    )
    await until(lambda: any(b"oadrPoll" in body for body in vtn.bodies))
    vtn.garbage = True
    await until(lambda: unreachable(hass) is not None)
    issue = unreachable(hass)
    assert issue is not None
    assert issue.translation_placeholders["reason"].startswith(
        "malformed XML from OadrPoll: "
    )
    assert "cannot be used: malformed XML from OadrPoll" in caplog.text
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.plan.data is not None
    # The VTN mends its ways: the issue goes, the VEN polls on.
    vtn.garbage = False
    await until(lambda: unreachable(hass) is None)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_an_event_whose_window_is_past_is_refused(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, caplog: pytest.LogCaptureFixture
) -> None:
    now = slot_start(dt_util.utcnow())
    # openleadr's VTN sends a past event only along with another one, here
    # an active one (sent first, so the refusal is the last word).
    for event_id, start in (
        ("evt-old", now - timedelta(hours=3)),
        ("evt-now", now),
    ):
        vtn.add_event(event_id, start, payload=2.0)
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
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "flex_refused_openadr")
    assert issue is not None
    end = (now - timedelta(hours=2, minutes=30)).isoformat()
    assert (
        f"the window ended at {end}, in the past"
        in (issue.translation_placeholders["reason"])
    )
    assert "Flexibility event openadr:evt-old refused: end: the window" in caplog.text
    # The other event is taken; a completed one needs no answer.
    assert list(entry.runtime_data.flex.records) == ["openadr:evt-now"]
    assert {r["event_id"] for r in vtn.created_events()} == {"evt-now"}
    assert entry.runtime_data.plan.data is not None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_an_event_overlapping_one_taken_is_refused(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, caplog: pytest.LogCaptureFixture
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=2)
    for event_id, begin in (("evt-a", start), ("evt-b", start + timedelta(minutes=30))):
        vtn.add_event(event_id, begin, duration=timedelta(hours=1))
    entry = await set_up(
        hass,
        tmp_path,
        {
            "policy": "auto_accept",
            "openadr_vtn_url": vtn.url,
            "openadr_poll_seconds": 1,
        },
    )
    await until(lambda: len(vtn.opts) == 2)
    answers = {r["event_id"]: r["opt_type"] for r in vtn.created_events()}
    assert answers == {"evt-a": "optIn", "evt-b": "optOut"}
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "flex_refused_openadr")
    assert issue is not None
    assert "overlaps event openadr:evt-a" in issue.translation_placeholders["reason"]
    assert "Flexibility event openadr:evt-b refused: start: overlaps" in caplog.text
    # The plan keeps the event taken.
    assert list(entry.runtime_data.flex.records) == ["openadr:evt-a"]
    await hass.async_block_till_done(wait_background_tasks=True)
    schedule = entry.runtime_data.plan.data
    assert schedule is not None
    tariff = entry.runtime_data.prices.data.slot_at(start)
    assert tariff is not None
    index = schedule.slot_starts.index(start)
    assert schedule.prices[index] == pytest.approx(tariff.value + 10, abs=1e-3)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_an_answer_the_vtn_refuses_is_logged_and_not_repeated(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, caplog: pytest.LogCaptureFixture
) -> None:
    start = slot_start(dt_util.utcnow()) + timedelta(hours=2)
    vtn.add_event("evt-5", start)
    entry = await set_up(
        hass,
        tmp_path,
        {"policy": "ask", "openadr_vtn_url": vtn.url, "openadr_poll_seconds": 1},
    )
    await until(lambda: vtn.opts == ["optOut"])
    # The VTN forgets the event: it answers the household's optIn with an
    # OpenADR error (452, invalid id).
    vtn.server.services["event_service"].events[VEN_ID].clear()
    await hass.services.async_call(
        DOMAIN, "flex_respond", {"event": "evt-5", "response": "accept"}, blocking=True
    )
    await until(
        lambda: "refused the answer optIn to event evt-5 (code 452)" in caplog.text
    )
    polls = len(vtn.bodies)
    await until(lambda: len(vtn.bodies) >= polls + 2)
    opts = [r["opt_type"] for r in vtn.created_events()]
    assert opts.count("optIn") == 1
    assert unreachable(hass) is None
    assert entry.runtime_data.flex.records["openadr:evt-5"].response == "accepted"
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_unsigned_messages_are_refused_when_a_fingerprint_is_set(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn
) -> None:
    entry = await set_up(
        hass,
        tmp_path,
        {
            "openadr_vtn_url": vtn.url,
            "openadr_vtn_fingerprint": "00:11:22:33:44:55:66:77:88:99",
        },
    )
    await until(lambda: unreachable(hass) is not None)
    issue = unreachable(hass)
    assert issue is not None
    assert issue.translation_placeholders["reason"] == (
        "an unsigned message from EiRegisterParty"
    )
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_certificate_file_gone_since_it_was_set_is_a_repair_issue(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn
) -> None:
    gone = tmp_path / "gone.pem"
    entry = await set_up(
        hass,
        tmp_path,
        {
            "openadr_vtn_url": vtn.url,
            "openadr_cert": str(gone),
            "openadr_key": str(gone),
        },
    )
    await until(lambda: unreachable(hass) is not None)
    issue = unreachable(hass)
    assert issue is not None
    assert issue.translation_placeholders["reason"].startswith(
        f"PemError: openadr_cert: {gone} cannot be read"
    )
    # Nothing reached the VTN; the plan goes on.
    assert vtn.bodies == []
    assert entry.runtime_data.plan.data is not None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
