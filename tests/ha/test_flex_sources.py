"""Flexibility settings (options form) and Octopus free-electricity sessions."""

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.hems.const import DOMAIN
from custom_components.hems.flex_settings import FlexSettings, Policy
from tests.ha.conftest import FakeOctopus

from .helpers import (
    CAR,
    EVENING,
    PUBLISHED,
    SLOT,
    entity_id,
    planned_on,
    set_up,
    state,
    tick,
)

# The 24 sessions Octopus published (tests/fixtures/README.md: MIT notice).
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SESSIONS = FIXTURES / "octopus_free_electricity_sessions.json"
# Events are taken up to 14 days ahead (flex/rules.py).
SOON = timedelta(days=14)


def test_settings_read_what_can_be_used() -> None:
    assert FlexSettings.from_options({}) == FlexSettings()
    assert FlexSettings.from_options({"flex": "x"}).policy is Policy.ASK
    settings = FlexSettings.from_options(
        {
            "flex": {
                "policy": "sometimes",
                "pence_per_point": -1,
                "level_uplift_p": float("nan"),
                "mqtt_topic": "  ",
                "saving_session_entity": " event.x ",
            }
        }
    )
    assert settings == FlexSettings(saving_session_entity="event.x")
    assert FlexSettings.from_options(
        {"flex": {"policy": "decline", "pence_per_point": 0.2, "level_uplift_p": 5}}
    ) == FlexSettings(policy=Policy.DECLINE, pence_per_point=0.2, level_uplift_p=5.0)


async def test_the_options_section_sets_the_policy(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"flex": {"policy": "decline", "pence_per_point": 0.1, "mqtt_topic": ""}},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options["flex"]["policy"] == "decline"
    await hass.services.async_call(
        DOMAIN,
        "flex_event",
        {
            "id": "no",
            "direction": "down",
            "start": EVENING + timedelta(hours=1),
            "end": EVENING + timedelta(hours=2),
            "points_per_kwh": 100,
        },
        blocking=True,
    )
    record = entry.runtime_data.flex.records["service:no"]
    assert record.response == "declined"
    assert record.event.reward is not None
    assert record.event.reward.pence_per_point == 0.1


async def test_free_electricity_sessions_of_an_entity(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    free = datetime(2020, 9, 27, 18, tzinfo=UTC)
    hass.states.async_set(
        "sensor.free_electricity",
        "2",
        {
            "data": [
                {
                    "start": "2020-09-27T18:00:00.000Z",
                    "end": "2020-09-27T20:00:00.000Z",
                    "code": "31",
                },
                {
                    "start": "2020-09-27T21:00:00.000Z",
                    "end": "2020-09-27T22:00:00.000Z",
                    "code": "32",
                    "is_test": True,
                },
                {
                    "start": "2020-09-20T12:00:00.000Z",
                    "end": "2020-09-20T13:00:00.000Z",
                    "code": "30",
                },
                {"start": "not a time", "end": "2020-09-27T22:00:00.000Z"},
            ]
        },
    )
    options = {
        "flex": {
            "policy": "auto_accept",
            "free_electricity_entity": "sensor.free_electricity",
        }
    }
    entry = await set_up(hass, (CAR, "car"), options=options)
    await hass.async_block_till_done(wait_background_tasks=True)
    flex = entry.runtime_data.flex
    assert set(flex.records) == {"octopus_free_electricity:31"}
    assert planned_on(entry, "car") == [free + i * SLOT for i in range(4)]
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, "flex_refused_octopus_free_electricity"
    )
    assert issue is not None
    assert issue.translation_placeholders["reason"] == (
        "data[3].start: 'not a time' is not an ISO date-time"
    )
    # The session moved by Octopus: the event follows, the answer stays.
    hass.states.async_set(
        "sensor.free_electricity",
        "1",
        {
            "data": [
                {
                    "start": "2020-09-27T19:00:00Z",
                    "end": "2020-09-27T21:00:00Z",
                    "code": "31",
                }
            ]
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    record = flex.records["octopus_free_electricity:31"]
    assert record.event.start == free + 2 * SLOT
    assert record.response == "accepted"


@pytest.mark.parametrize("entity", ["calendar.octopus_free_electricity"])
async def test_a_free_electricity_calendar_that_cannot_be_read_offers_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    entity: str,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, options={"flex": {"free_electricity_entity": entity}})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.flex.records == {}
    assert entry.runtime_data.plan.data is not None


async def test_the_published_sessions_are_turn_ups_on_the_plan_calendar(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    """Octopus's real sessions, read on 5 August 2025 before the 13:00 one."""
    now = datetime(2025, 8, 5, 10, tzinfo=UTC)
    freezer.move_to(now)
    octopus.published_until = now
    data = json.loads(SESSIONS.read_text())
    hass.states.async_set("sensor.free_electricity", "ok", data)
    options = {"flex": {"free_electricity_entity": "sensor.free_electricity"}}
    entry = await set_up(hass, options=options)
    await hass.async_block_till_done(wait_background_tasks=True)
    ahead = [
        session
        for session in data["data"]
        if datetime.fromisoformat(session["end"]) > now and not session.get("is_test")
    ]
    assert [s["code"] for s in ahead] == [str(code) for code in range(12, 25)]
    flex = entry.runtime_data.flex
    # Those within the 14 days the manager takes events for, the rest later.
    soon = [s for s in ahead if datetime.fromisoformat(s["start"]) < now + SOON]
    assert [s["code"] for s in soon] == ["12", "13"]
    assert set(flex.records) == {
        f"octopus_free_electricity:{session['code']}" for session in soon
    }
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, "flex_refused_octopus_free_electricity"
    )
    # Twenty days on, the list (unchanged) is read again: 14 to 17 come in.
    await tick(hass, freezer, now + timedelta(days=20))
    later = now + timedelta(days=20)
    ahead = [
        session
        for session in ahead
        if datetime.fromisoformat(session["end"]) > later
        and datetime.fromisoformat(session["start"]) < later + SOON
    ]
    assert [s["code"] for s in ahead] == ["14", "15", "16", "17"]
    assert set(flex.records) == {
        f"octopus_free_electricity:{code}" for code in range(12, 18)
    }
    now = later
    for session in ahead:
        record = flex.records[f"octopus_free_electricity:{session['code']}"]
        event = record.event
        assert event.direction == "up"
        assert event.start == datetime.fromisoformat(session["start"])
        assert event.end == datetime.fromisoformat(session["end"])
        assert [ask.price for ask in event.asks] == [0.0]
        # Free for everyone on the tariff: taken as joined, whatever the setting.
        assert (record.response, record.decided_by) == ("accepted", "source")
    events = state(hass, "sensor", "HEMS", "flex_events")
    assert int(events.state) == len(ahead)
    assert {e["direction"] for e in events.attributes["events"]} == {"up"}
    calendar = entity_id(hass, "calendar", "HEMS", "plan")
    answer = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": calendar,
            "start_date_time": now,
            "end_date_time": now + timedelta(days=120),
        },
        blocking=True,
        return_response=True,
    )
    shown = [
        (datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"]))
        for item in answer[calendar]["events"]  # type: ignore[index, union-attr]
        if item["summary"] == "Octopus free electricity"
    ]
    assert shown == [
        (
            datetime.fromisoformat(session["start"]),
            datetime.fromisoformat(session["end"]),
        )
        for session in ahead
    ]
    descriptions = {
        item["description"]
        for item in answer[calendar]["events"]  # type: ignore[index, union-attr]
    }
    assert descriptions == {
        "Flexibility event (octopus_free_electricity): turn import up; accepted"
    }
