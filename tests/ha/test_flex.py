"""Flexibility events through Home Assistant: services, switches, plan, restarts."""

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest

from custom_components.hems.const import DOMAIN
from tests.ha.conftest import FakeOctopus

from .helpers import (
    CAR,
    EVENING,
    PUBLISHED,
    SLOT,
    entity_id,
    plan_slots,
    plan_state,
    planned_on,
    real_price,
    set_up,
    state,
    tick,
)

AUTO = {"flex": {"policy": "auto_accept"}}


def window(slots: list[datetime]) -> dict[str, Any]:
    return {"start": min(slots).isoformat(), "end": (max(slots) + SLOT).isoformat()}


async def add_event(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(DOMAIN, "flex_event", data, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)


def switch_id(hass: HomeAssistant, key: str) -> str | None:
    return er.async_get(hass).async_get_entity_id("switch", DOMAIN, f"HEMS_flex_{key}")


async def test_an_accepted_turn_down_moves_the_car_out_of_its_window(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), options=AUTO)
    before = planned_on(entry, "car")
    assert len(before) == 4
    await add_event(
        hass, id="peak", direction="down", reward_p_per_kwh=100, **window(before)
    )
    after = planned_on(entry, "car")
    assert len(after) == 4
    assert not set(after) & set(before)
    schedule = entry.runtime_data.plan.data
    # The plan's prices carry the uplift in the window, the tariff's elsewhere.
    for start, price in zip(schedule.slot_starts, schedule.prices, strict=True):
        uplift = 100 if min(before) <= start <= max(before) else 0
        assert price == pytest.approx(real_price(start) + uplift, abs=1e-3), start
    switch = hass.states.get(switch_id(hass, "service:peak") or "")
    assert switch is not None
    assert switch.state == STATE_ON
    assert switch.attributes["response"] == "accepted"
    assert switch.attributes["planned_kwh"] == {"Car": 0.0}
    events = state(hass, "sensor", "HEMS", "flex_events")
    assert events.state == "1"
    assert events.attributes["events"][0]["event"] == "service:peak"
    calendar = entity_id(hass, "calendar", "HEMS", "plan")
    found = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            ATTR_ENTITY_ID: calendar,
            "start_date_time": min(before),
            "end_date_time": max(before),
        },
        blocking=True,
        return_response=True,
    )
    summaries = [event["description"] for event in found[calendar]["events"]]
    assert "Flexibility event (service): turn import down; accepted" in summaries


async def test_asking_waits_for_the_household(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    before = planned_on(entry, "car")
    await add_event(
        hass, id="ask", direction="down", points_per_kwh=8000, **window(before)
    )
    switch = switch_id(hass, "service:ask")
    assert switch is not None
    assert hass.states.get(switch).state == STATE_OFF
    assert hass.states.get(switch).attributes["response"] == "pending"
    assert planned_on(entry, "car") == before  # not taken part in yet
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(switch).state == STATE_ON
    assert not set(planned_on(entry, "car")) & set(before)
    await hass.services.async_call(
        DOMAIN,
        "flex_respond",
        {"event": "ask", "response": "decline"},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(switch).state == STATE_OFF
    assert hass.states.get(switch).attributes["decided_by"] == "household"
    assert planned_on(entry, "car") == before
    # Cancelled: the switch goes, the plan stays as it is.
    await add_event(hass, action="cancel", id="ask")
    assert switch_id(hass, "service:ask") is None
    assert state(hass, "sensor", "HEMS", "flex_events").state == "0"


async def test_a_free_turn_up_pulls_the_car_in_and_survives_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), options=AUTO)
    before = planned_on(entry, "car")
    free = [datetime(2020, 9, 27, 18, tzinfo=UTC) + i * SLOT for i in range(4)]
    assert not set(free) & set(before)
    await add_event(hass, id="free", direction="up", free=True, **window(free))
    assert planned_on(entry, "car") == free
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    record = entry.runtime_data.flex.records["service:free"]
    assert record.response == "accepted"
    assert record.event.asks[0].price == 0
    assert planned_on(entry, "car") == free
    # When the event ends its switch goes; the record stays for its figures.
    await tick(hass, freezer, max(free) + SLOT + timedelta(minutes=5, seconds=30))
    assert switch_id(hass, "service:free") is None
    assert "service:free" in entry.runtime_data.flex.records


async def test_bad_events_are_refused_with_the_field_and_a_repair_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, options=AUTO)
    past = {
        "start": (EVENING - timedelta(hours=2)).isoformat(),
        "end": (EVENING - timedelta(hours=1)).isoformat(),
    }
    with pytest.raises(ServiceValidationError) as caught:
        await add_event(hass, id="old", direction="down", **past)
    assert caught.value.translation_key == "flex_invalid"
    assert caught.value.translation_placeholders["error"].startswith(
        "end: the window ended at"
    )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "flex_refused_service")
    assert issue is not None
    assert issue.translation_placeholders["event"] == "service:old"
    ahead = {
        "start": (EVENING + timedelta(hours=1)).isoformat(),
        "end": (EVENING + timedelta(hours=2)).isoformat(),
    }
    with pytest.raises(ServiceValidationError) as caught:
        await add_event(hass, id="odd", direction="up", max_import_kw=1, **ahead)
    assert "a turn-up asks at least" in caught.value.translation_placeholders["error"]
    await add_event(hass, id="one", direction="down", **ahead)
    # The good event cleared the issue; an overlapping one raises it again.
    assert ir.async_get(hass).async_get_issue(DOMAIN, "flex_refused_service") is None
    with pytest.raises(ServiceValidationError) as caught:
        await add_event(hass, id="two", direction="up", **ahead)
    assert (
        "overlaps event service:one" in caught.value.translation_placeholders["error"]
    )
    assert set(entry.runtime_data.flex.records) == {"service:one"}
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "flex_respond",
            {"event": "nope", "response": "accept"},
            blocking=True,
        )
    assert caught.value.translation_key == "flex_unknown_event"
    with pytest.raises(ServiceValidationError):
        await add_event(hass, action="cancel", id="nope")


async def test_saving_sessions_of_octopus_energy_are_offered_and_joined(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    joined: list[ServiceCall] = []

    async def join(call: ServiceCall) -> None:
        joined.append(call)

    # Octopus Energy's join service, the edge hems calls.
    hass.services.async_register(
        "octopus_energy", "join_octoplus_saving_session_event", join
    )
    sessions = "event.octopus_energy_a_1234_octoplus_saving_session_events"
    hass.states.async_set(
        sessions,
        "2020-09-27T15:00:00.000+00:00",
        {
            "event_types": ["octopus_energy_all_octoplus_saving_sessions"],
            "account_id": "A-1234",
            "available_events": [
                {
                    "id": 42,
                    "code": "EVENT_42",
                    "start": "2020-09-27T18:30:00+01:00",
                    "end": "2020-09-27T19:30:00+01:00",
                    "duration_in_minutes": 60,
                    "octopoints_per_kwh": 1600,
                    "target_regions": [],
                }
            ],
            "joined_events": [
                {
                    "id": 41,
                    "start": "2020-09-20T18:30:00+01:00",
                    "end": "2020-09-20T19:30:00+01:00",
                    "duration_in_minutes": 60,
                    "rewarded_octopoints": 800,
                    "octopoints_per_kwh": 1600,
                    "target_regions": [],
                }
            ],
        },
    )
    entry = await set_up(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    flex = entry.runtime_data.flex
    # The past joined session is left out; the new one waits for the household.
    assert set(flex.records) == {"octopus_saving_session:42"}
    switch = switch_id(hass, "octopus_saving_session:42")
    assert switch is not None
    assert hass.states.get(switch).attributes["reward"]["points_per_kwh"] == 1600
    assert not joined
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [call.data for call in joined] == [
        {"entity_id": sessions, "event_code": "EVENT_42"}
    ]
    slot = datetime(2020, 9, 27, 17, 30, tzinfo=UTC)
    schedule = entry.runtime_data.plan.data
    price = schedule.prices[schedule.slot_starts.index(slot)]
    assert price == pytest.approx(real_price(slot) + 200, abs=1e-3)


async def test_a_damaged_event_store_keeps_what_it_can(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    good = {
        "event": {
            "id": "kept",
            "source": "mqtt",
            "direction": "up",
            "start": "2020-09-27T20:00:00+00:00",
            "end": "2020-09-27T21:00:00+00:00",
            "asks": [
                {
                    "start": "2020-09-27T20:00:00+00:00",
                    "end": "2020-09-27T21:00:00+00:00",
                    "price": 0.0,
                }
            ],
        },
        "response": "accepted",
        "received": "2020-09-27T15:00:00+00:00",
        "decided_by": "household",
    }
    bad = good | {"event": good["event"] | {"id": "bad", "direction": "left"}}
    hass_storage["hems.HEMS.flex"] = {
        "version": 1,
        "minor_version": 1,
        "key": "hems.HEMS.flex",
        "data": {"records": [good, bad, "junk"]},
    }
    entry = await set_up(hass)
    records = entry.runtime_data.flex.records
    assert set(records) == {"mqtt:kept"}
    assert records["mqtt:kept"].decided_by == "household"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "storage_hems.HEMS.flex")
    assert issue is not None
    assert "2 part(s) dropped" in issue.translation_placeholders["problem"]
    # The accepted free hour is in the plan's prices at once.
    schedule = entry.runtime_data.plan.data
    slot = datetime(2020, 9, 27, 20, tzinfo=UTC)
    assert schedule.prices[schedule.slot_starts.index(slot)] == 0


async def test_a_turn_down_target_alone_caps_the_planned_import(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """No reward, only "import at most 0.5 kW": the car leaves the window."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), options=AUTO)
    before = planned_on(entry, "car")
    assert all(plan_slots(hass)[s]["import_kwh"] >= 3.5 - 1e-6 for s in before)
    await add_event(
        hass, id="cap", direction="down", max_import_kw=0.5, **window(before)
    )
    after = planned_on(entry, "car")
    assert len(after) == 4
    assert not set(after) & set(before)
    schedule = entry.runtime_data.plan.data
    for start, price in zip(schedule.slot_starts, schedule.prices, strict=True):
        assert price == pytest.approx(real_price(start), abs=1e-3)  # no uplift
    slots = plan_slots(hass)
    assert all(slots[s]["import_kwh"] <= 0.5 * 0.5 + 1e-6 for s in before)
    asked = {start for start, slot in slots.items() if "max_import_kw" in slot}
    assert asked == {s for s in slots if min(before) <= s <= max(before)}
    assert {slots[s]["max_import_kw"] for s in asked} == {0.5}
    # The plan and what it was asked survive a restart.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert planned_on(entry, "car") == after
    assert entry.runtime_data.plan.data.import_caps_kw.count(0.5) == len(asked)


async def test_a_turn_up_target_alone_pulls_the_car_into_the_window(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """No price change, only "import at least 7 kW" 19:00-21:00 BST."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), options=AUTO)
    up = [datetime(2020, 9, 27, 18, tzinfo=UTC) + i * SLOT for i in range(4)]
    assert not set(up) & set(planned_on(entry, "car"))
    await add_event(hass, id="up", direction="up", min_import_kw=7.0, **window(up))
    assert planned_on(entry, "car") == up
    slots = plan_slots(hass)
    assert all(slots[s]["import_kwh"] >= 7.0 * 0.5 - 1e-6 for s in up)
    assert [slots[s].get("min_import_kw") for s in up] == [7.0] * 4
    assert entry.runtime_data.plan.data.import_shortfall_kwh == 0.0
    assert plan_state(hass).attributes["import_shortfall_kwh"] == 0.0
    # Declined: the plan goes back to the cheapest half-hours.
    await hass.services.async_call(
        DOMAIN, "flex_respond", {"event": "up", "response": "decline"}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not set(planned_on(entry, "car")) & set(up)
