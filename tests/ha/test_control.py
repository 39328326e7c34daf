"""Loads run themselves at the planned times: execution in a real Home Assistant."""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_CALL_SERVICE, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
)

from custom_components.hems.const import DOMAIN, EVENT_LOAD_STARTED, EVENT_PLAN_UPDATED

from .conftest import FakeOctopus
from .helpers import (
    BATTERY,
    CAR,
    EVENING,
    PUBLISHED,
    SLOT,
    WASHER,
    entity,
    planned_on,
    set_up,
    tick,
)


async def test_loads_follow_the_plan_through_the_night(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """The car charges in its planned slots; the washer starts once, never stops."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    started = async_capture_events(hass, EVENT_LOAD_STARTED)
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    entry = await set_up(hass, (CAR, "car"), (WASHER, "washer"), (BATTERY, "battery"))

    car_slots = planned_on(entry, "car")
    assert len(car_slots) == 4
    window = entry.runtime_data.plan.data.loads["washer"].windows[0]
    assert window.cycle_start is not None
    washer_start = window.cycle_start
    mode_select = hass.states.get("input_select.inverter")
    assert mode_select is not None

    seen_on: list[datetime] = []
    slot = datetime(2020, 9, 27, 16, 30, tzinfo=UTC)
    while slot < datetime(2020, 9, 28, 7, tzinfo=UTC):
        await tick(hass, freezer, slot)
        car = hass.states.get("input_boolean.car")
        assert car is not None
        assert (car.state == STATE_ON) == (slot in car_slots), slot
        if car.state == STATE_ON:
            seen_on.append(slot)
        washer = hass.states.get("input_boolean.washer")
        assert washer is not None
        assert washer.state == (STATE_ON if slot >= washer_start else STATE_OFF)
        schedule = entry.runtime_data.plan.data
        index = schedule.index(slot)
        mode = schedule.loads["battery"].modes[index]
        expected = BATTERY["actuator"]["options"][mode]
        assert hass.states.get("input_select.inverter").state == expected
        slot += SLOT

    assert seen_on == car_slots
    washer_calls = [
        call
        for call in calls
        if call.data["domain"] == "input_boolean"
        and call.data["service_data"].get("entity_id") == "input_boolean.washer"
    ]
    assert [call.data["service"] for call in washer_calls] == ["turn_on"]
    assert any(event.data["load"] == "Car" for event in started)

    state = entry.runtime_data.plan.state
    car_energy = 4 * 3.5
    assert state.today.energy_kwh >= car_energy
    cost = float(hass.states.get(entity(hass, "sensor", "HEMS_cost_today")).state)
    energy = float(hass.states.get(entity(hass, "sensor", "HEMS_energy_today")).state)
    average = float(
        hass.states.get(entity(hass, "sensor", "HEMS_average_price_today")).state
    )
    assert energy > 0
    assert average == pytest.approx(cost * 100 / energy, abs=0.01)


async def _run_night(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, first: datetime
) -> set[datetime]:
    """Tick every half-hour after ``first`` until 07:00; return when the car ran."""
    ran = {first}
    slot = first + SLOT
    while slot < datetime(2020, 9, 28, 7, tzinfo=UTC):
        await tick(hass, freezer, slot)
        if hass.states.get("input_boolean.car").state == STATE_ON:
            ran.add(slot)
        slot += SLOT
    return ran


async def test_restart_mid_run_keeps_the_plan_and_the_count(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """After a restart the plan is restored and the running slot goes on."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    car_slots = planned_on(entry, "car")
    first = car_slots[0]
    await tick(hass, freezer, first)
    assert hass.states.get("input_boolean.car").state == STATE_ON

    # Home Assistant restarts 10 minutes into the slot, with the API down; the
    # plug stays on meanwhile.
    octopus.failures = [TimeoutError()] * 20
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.move_to(first + timedelta(minutes=10))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.car").state == STATE_ON
    assert planned_on(entry, "car") == car_slots

    # Running the rest of the night gives exactly the four planned slots.
    assert sorted(await _run_night(hass, freezer, first)) == car_slots
    runs = entry.runtime_data.plan.state.load("car").runs
    assert sum(runs.values()) == pytest.approx(4, abs=0.01)


async def test_restart_with_the_plug_off_makes_up_for_the_lost_time(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A plug that went off while HA was down is switched on and the loss re-planned."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    car_slots = planned_on(entry, "car")
    first = car_slots[0]
    await tick(hass, freezer, first)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.car"}, blocking=True
    )
    freezer.move_to(first + timedelta(minutes=10))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.car").state == STATE_ON

    # The ten minutes lost cost one more half-hour: two hours are delivered.
    ran = await _run_night(hass, freezer, first)
    assert len(ran) == len(car_slots) + 1
    runs = entry.runtime_data.plan.state.load("car").runs
    assert sum(runs.values()) == pytest.approx(4 + 2 / 3, abs=0.01)


async def test_replan_while_running_does_not_flap(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A re-plan mid-slot keeps the running slot and counts it."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    first = planned_on(entry, "car")[0]
    await tick(hass, freezer, first)
    updates = async_capture_events(hass, EVENT_PLAN_UPDATED)
    freezer.move_to(first + timedelta(minutes=12))
    await hass.services.async_call(DOMAIN, "replan", blocking=True)
    assert len(updates) == 1
    schedule = entry.runtime_data.plan.data
    assert schedule.slot_starts[0] == first
    assert schedule.loads["car"].on[0] is True
    assert hass.states.get("input_boolean.car").state == STATE_ON
    assert len(planned_on(entry, "car")) == 4
    scheduled = entity(hass, "binary_sensor", "car_scheduled_now")
    assert hass.states.get(scheduled).state == STATE_ON


async def test_override_and_expiry(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """hems.override holds a state until its time, then the plan resumes."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), (BATTERY, "battery"))
    automatic = entity(hass, "switch", "car_automatic")
    await hass.services.async_call(
        DOMAIN,
        "override",
        {
            "entity_id": automatic,
            "state": "on",
            "until": EVENING + timedelta(minutes=50),
        },
        blocking=True,
    )
    assert hass.states.get("input_boolean.car").state == STATE_ON
    await tick(hass, freezer, datetime(2020, 9, 27, 16, 30, tzinfo=UTC))
    assert hass.states.get("input_boolean.car").state == STATE_ON
    await tick(hass, freezer, datetime(2020, 9, 27, 17, 0, tzinfo=UTC))
    car_slots = planned_on(entry, "car")
    expected = (
        STATE_ON if datetime(2020, 9, 27, 17, tzinfo=UTC) in car_slots else STATE_OFF
    )
    assert hass.states.get("input_boolean.car").state == expected

    # The battery mode select overrides the current half-hour.
    select = entity(hass, "select", "battery_battery_mode")
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": select, "option": "force_charge"},
        blocking=True,
    )
    assert hass.states.get("input_select.inverter").state == "Grid charge"
    assert hass.states.get(select).state == "force_charge"

    # Automatic off: hems leaves the plug alone.
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": automatic}, blocking=True
    )
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.car"}, blocking=True
    )
    await tick(hass, freezer, datetime(2020, 9, 27, 17, 30, tzinfo=UTC))
    assert hass.states.get("input_boolean.car").state == STATE_ON


async def test_service_input_is_validated(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Wrong loads, states and times are refused with a translated message."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    await set_up(hass, (CAR, "car"), (WASHER, "washer"), (BATTERY, "battery"))
    car = entity(hass, "switch", "car_automatic")
    washer = entity(hass, "switch", "washer_automatic")
    battery = entity(hass, "select", "battery_battery_mode")
    cases = [
        ("override", {"entity_id": "input_boolean.car", "state": "on"}, "unknown_load"),
        ("override", {"entity_id": battery, "state": "on"}, "wrong_state"),
        ("override", {"entity_id": car, "state": "force_charge"}, "wrong_state"),
        (
            "override",
            {"entity_id": car, "state": "on", "until": EVENING - timedelta(hours=1)},
            "time_in_past",
        ),
        (
            "set_requirement",
            {"entity_id": washer, "hours": 2, "by": EVENING + timedelta(hours=5)},
            "no_requirement",
        ),
        (
            "set_requirement",
            {"entity_id": car, "hours": 1.25, "by": EVENING + timedelta(hours=5)},
            "half_hours",
        ),
        (
            "set_requirement",
            {"entity_id": car, "hours": 2, "by": EVENING - timedelta(hours=5)},
            "time_in_past",
        ),
    ]
    for service, data, key in cases:
        with pytest.raises(ServiceValidationError) as caught:
            await hass.services.async_call(DOMAIN, service, data, blocking=True)
        assert caught.value.translation_key == key, (service, data)


async def test_set_requirement_plans_before_the_deadline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A need of 3 h by 21:00 is planned in the cheapest slots before 21:00."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    car = entity(hass, "switch", "car_automatic")
    by = datetime(2020, 9, 27, 20, tzinfo=UTC)
    await hass.services.async_call(
        DOMAIN,
        "set_requirement",
        {"entity_id": car, "hours": 3, "by": by},
        blocking=True,
    )
    schedule = entry.runtime_data.plan.data
    # The running slot (16:00Z, already applied) is not re-planned.
    before = [
        (price, start)
        for start, price in zip(schedule.slot_starts, schedule.prices, strict=True)
        if EVENING < start < by
    ]
    planned = [start for start in planned_on(entry, "car") if start < by]
    assert len(planned) == 6
    assert sorted(planned) == sorted(start for _, start in sorted(before)[:6])


async def test_switch_failure_is_a_repair_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A missing plug or relay library never crashes hems: it raises a repair issue."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    heater = {
        "kind": "immersion",
        "name": "Immersion",
        "power_kw": 3.0,
        "hours": 2.0,
        "cheaper_than_gas": False,
        "window_start": "00:00",
        "window_end": "00:00",
        "actuator": {"type": "gpio", "pin": 17, "active_high": True},
    }
    car = {**CAR, "actuator": {"type": "entity", "entity_id": "switch.gone"}}
    await set_up(hass, (heater, "heater"), (car, "car"))
    issue = issue_registry.async_get_issue(DOMAIN, "actuator_failed_car_HEMS")
    assert issue is not None
    assert "switch.gone" in (issue.translation_placeholders or {})["error"]
    gpio_issue = issue_registry.async_get_issue(DOMAIN, "actuator_failed_heater_HEMS")
    assert gpio_issue is not None
    assert "RPi.GPIO" in (gpio_issue.translation_placeholders or {})["error"]
    scheduled = hass.states.get(entity(hass, "binary_sensor", "heater_scheduled_now"))
    assert "RPi.GPIO" in scheduled.attributes["actuator_error"]
    automatic = hass.states.get(entity(hass, "switch", "heater_automatic"))
    assert automatic.state == "unavailable"


async def test_calendar_and_load_sensors(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """The calendar lists each run; sensors give next start/stop, energy and cost."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), (WASHER, "washer"))
    calendar = entity(hass, "calendar", "HEMS_plan")
    result = await hass.services.async_call(
        "calendar",
        "get_events",
        {"entity_id": calendar, "start_date_time": EVENING, "end_date_time": PUBLISHED},
        blocking=True,
        return_response=True,
    )
    events = result[calendar]["events"]
    assert {event["summary"] for event in events} == {"Car", "Washer"}
    car_events = [event for event in events if event["summary"] == "Car"]
    total = sum(
        (datetime.fromisoformat(e["end"]) - datetime.fromisoformat(e["start"])) / SLOT
        for e in car_events
    )
    assert total == 4
    car_slots = planned_on(entry, "car")
    next_start = hass.states.get(entity(hass, "sensor", "car_next_start")).state
    assert datetime.fromisoformat(next_start) == car_slots[0]
    energy = hass.states.get(entity(hass, "sensor", "car_planned_energy"))
    assert float(energy.state) == 14.0
    cycle_cost = hass.states.get(entity(hass, "sensor", "washer_cycle_cost"))
    window = entry.runtime_data.plan.data.loads["washer"].windows[0]
    assert float(cycle_cost.state) == pytest.approx(window.cycle_cost / 100, abs=1e-4)
    deferred = hass.states.get(entity(hass, "binary_sensor", "washer_deferred"))
    assert deferred.state == STATE_OFF


async def test_expensive_cycle_is_deferred(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Above its maximum cycle cost the washer waits and says so."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    washer = {**WASHER, "max_cycle_cost": 0.5}
    await set_up(hass, (washer, "washer"))
    deferred = hass.states.get(entity(hass, "binary_sensor", "washer_deferred"))
    assert deferred.state == STATE_ON
    assert (
        hass.states.get(entity(hass, "sensor", "washer_cycle_start")).state == "unknown"
    )


async def test_replan_without_hems_is_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """hems.replan with no loaded entry says so; plan sensors start empty."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    average = entity(hass, "sensor", "HEMS_average_price_today")
    assert hass.states.get(average).state == "unknown"  # nothing ran yet
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(DOMAIN, "replan", blocking=True)
    assert caught.value.translation_key == "not_loaded"
