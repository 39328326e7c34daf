"""Faults a household meets: late prices, offline plugs, hands on switches, renames."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.hems.const import DOMAIN, EVENT_PLAN_UPDATED
from custom_components.hems.load_config import LoadConfigError, parse_load
from custom_components.hems.scheduling import RUN_TOLERANCE

from .conftest import FakeOctopus
from .helpers import (
    BATTERY,
    CAR,
    EVENING,
    PUBLISHED,
    SLOT,
    entity,
    planned_on,
    set_up,
    tick,
)

NIGHT_END = datetime(2020, 9, 28, 7, tzinfo=UTC)


async def _run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    start: datetime,
    end: datetime,
    during: Callable[[datetime], Awaitable[None]] | None = None,
    *,
    close: bool = True,
) -> list[datetime]:
    """Tick every half-hour in [start, end) (and ``end`` to book the last one).

    Return the slots the car was on.
    """
    ran = []
    slot = start
    while slot < end:
        await tick(hass, freezer, slot)
        if hass.states.get("input_boolean.car").state == STATE_ON:
            ran.append(slot)
        if during is not None:
            await during(slot)
        slot += SLOT
    if close:
        await tick(hass, freezer, end)
    return ran


def _delivered(entry: Any) -> float:
    """Return the half-hours the car was booked for, over all its windows."""
    return sum(entry.runtime_data.plan.state.load("car").runs.values())


async def test_prices_that_never_come_still_charge_the_car(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """The API fails from 15:10: the car charges in tonight's known half-hours."""
    freezer.move_to(datetime(2020, 9, 27, 14, 10, tzinfo=UTC))  # 15:10 BST
    octopus.published_until = datetime(2020, 9, 27, 22, tzinfo=UTC)  # to 23:00 BST
    entry = await set_up(hass, (CAR, "car"))
    octopus.failures = [TimeoutError()] * 10_000
    # At 15:10 tomorrow's prices may still come: the night is not planned yet.
    assert planned_on(entry, "car") == []

    # From 17:00 they are overdue: the window is planned over what is known.
    ran = await _run(
        hass,
        freezer,
        datetime(2020, 9, 27, 14, 30, tzinfo=UTC),
        datetime(2020, 9, 27, 22, tzinfo=UTC),
    )
    assert len(ran) == 4
    assert all(datetime(2020, 9, 27, 17, tzinfo=UTC) <= slot for slot in ran)
    assert _delivered(entry) == pytest.approx(4, abs=0.01)
    window = entry.runtime_data.plan.data.loads["car"].windows[0]
    assert window.unpriced_from == datetime(2020, 9, 27, 22, tzinfo=UTC)
    assert window.shortfall_slots == 0


async def test_a_window_longer_than_the_known_prices_is_a_shortfall(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Six hours asked, two and a half priced: five half-hours now, the rest later."""
    freezer.move_to(datetime(2020, 9, 27, 16, 10, tzinfo=UTC))
    octopus.published_until = datetime(2020, 9, 27, 22, tzinfo=UTC)
    late_car = {**CAR, "hours": 6.0, "window_start": "20:30"}
    entry = await set_up(hass, (late_car, "car"))
    window = entry.runtime_data.plan.data.loads["car"].windows[0]
    assert len(planned_on(entry, "car")) == 5  # 20:30-23:00 BST
    assert window.planned_slots == 5
    assert window.shortfall_slots == 7
    assert window.unpriced_from == datetime(2020, 9, 27, 22, tzinfo=UTC)


async def test_a_plan_that_lands_after_the_half_hour_began_is_applied(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A re-plan still computing at :30 switches the car as soon as it is ready."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    before = planned_on(entry, "car")
    slot = next(
        start
        for start in entry.runtime_data.plan.data.slot_starts
        if start > EVENING + SLOT and start not in before
    )
    await _run(hass, freezer, EVENING + timedelta(minutes=20), slot, close=False)
    # The planner's thread answers only when the test says so.
    gate = asyncio.Event()
    run_in_executor = hass.async_add_executor_job

    def slow_executor(target: Any, *args: Any) -> asyncio.Future[Any]:
        async def _later() -> Any:
            await gate.wait()
            return await run_in_executor(target, *args)

        return asyncio.ensure_future(_later())

    freezer.move_to(slot - timedelta(seconds=1))
    hass.async_add_executor_job = slow_executor  # type: ignore[method-assign]
    # Half an hour of charging is needed now, before the next half-hour ends.
    request = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "set_requirement",
            {
                "entity_id": entity(hass, "switch", "car_automatic"),
                "hours": 0.5,
                "by": slot + SLOT,
            },
            blocking=True,
        )
    )
    for _ in range(5):
        await asyncio.sleep(0)
    # The half-hour begins while the plan still computes: the plan in force
    # (car off) is applied.
    freezer.move_to(slot)
    async_fire_time_changed(hass, slot)
    for _ in range(20):
        await asyncio.sleep(0)
    assert hass.states.get("input_boolean.car").state == STATE_OFF
    hass.async_add_executor_job = run_in_executor  # type: ignore[method-assign]
    gate.set()
    await request
    await hass.async_block_till_done(wait_background_tasks=True)
    assert slot in planned_on(entry, "car")
    assert hass.states.get("input_boolean.car").state == STATE_ON
    await tick(hass, freezer, slot + SLOT)
    ran = entry.runtime_data.plan.state.load("car").ran
    assert ran[slot.strftime("%Y-%m-%dT%H:%MZ")] == pytest.approx(1.0, abs=0.01)


async def test_no_replan_without_new_prices(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Hourly price polls that bring nothing new do not re-plan."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), (BATTERY, "battery"))
    plans = async_capture_events(hass, EVENT_PLAN_UPDATED)
    polls = len(octopus.rate_requests)
    await _run(hass, freezer, EVENING + timedelta(minutes=20), NIGHT_END)
    assert plans == []
    assert entry.runtime_data.prices.last_fetch is not None
    assert len(octopus.rate_requests) >= polls


async def test_an_unavailable_plug_is_not_booked_and_is_retried(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
    issue_registry: ir.IssueRegistry,
) -> None:
    """An offline plug raises a repair issue, is switched when back, and made up for."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    first = planned_on(entry, "car")[0]
    await _run(hass, freezer, EVENING + timedelta(minutes=20), first, close=False)
    hass.states.async_set("input_boolean.car", STATE_UNAVAILABLE)
    await tick(hass, freezer, first)
    issue = issue_registry.async_get_issue(DOMAIN, "actuator_failed_car_HEMS")
    assert issue is not None
    assert "unavailable" in issue.translation_placeholders["error"]
    automatic = entity(hass, "switch", "car_automatic")
    assert hass.states.get(automatic).state == STATE_UNAVAILABLE

    # Back after ten minutes: switched on at once.
    freezer.move_to(first + timedelta(minutes=10))
    hass.states.async_set("input_boolean.car", STATE_OFF)
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.car").state == STATE_ON
    assert issue_registry.async_get_issue(DOMAIN, "actuator_failed_car_HEMS") is None
    assert hass.states.get(automatic).state == STATE_ON

    ran = await _run(hass, freezer, first + SLOT, NIGHT_END)
    key = first.strftime("%Y-%m-%dT%H:%MZ")
    assert entry.runtime_data.plan.state.load("car").ran[key] == pytest.approx(
        2 / 3, abs=0.01
    )
    # The twenty minutes are made up: two hours are delivered, with one more slot.
    assert len(ran) == 4
    assert _delivered(entry) >= 4 - RUN_TOLERANCE


async def test_a_plug_switched_off_by_hand_is_noticed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Switched off five minutes into a slot: hems leaves it, then makes up."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    first = planned_on(entry, "car")[0]
    await _run(hass, freezer, EVENING + timedelta(minutes=20), first, close=False)
    await tick(hass, freezer, first)
    freezer.move_to(first + timedelta(minutes=5))
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.car"}, blocking=True
    )
    # A re-plan within the half-hour does not switch it back on.
    freezer.move_to(first + timedelta(minutes=10))
    await hass.services.async_call(DOMAIN, "replan", blocking=True)
    assert hass.states.get("input_boolean.car").state == STATE_OFF

    ran = await _run(hass, freezer, first + SLOT, NIGHT_END)
    key = first.strftime("%Y-%m-%dT%H:%MZ")
    assert entry.runtime_data.plan.state.load("car").ran[key] == pytest.approx(
        1 / 6, abs=0.01
    )
    assert len(ran) == 4  # three planned half-hours and one to make up
    assert _delivered(entry) >= 4 - RUN_TOLERANCE


async def test_a_renamed_plug_keeps_switching(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    hass_storage: dict[str, Any],
) -> None:
    """The plug's entity id is changed in the UI: hems follows it without a reload."""
    hass_storage["input_boolean"] = {
        "version": 1,
        "minor_version": 1,
        "key": "input_boolean",
        "data": {"items": [{"id": "car_plug", "name": "Car plug"}]},
    }
    assert await async_setup_component(hass, "input_boolean", {})
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    car = {**CAR, "actuator": {"type": "entity", "entity_id": "input_boolean.car_plug"}}
    entry = await set_up(hass, (car, "car"))
    first = planned_on(entry, "car")[0]
    changes = async_capture_events(hass, "state_changed")

    er.async_get(hass).async_update_entity(
        "input_boolean.car_plug", new_entity_id="input_boolean.garage_plug"
    )
    await hass.async_block_till_done()
    subentry = entry.subentries["car"]
    assert subentry.data["actuator"]["entity_id"] == "input_boolean.garage_plug"
    went_unavailable = [
        event.data["entity_id"]
        for event in changes
        if event.data["entity_id"].startswith(("sensor.car", "switch.car"))
        and (
            event.data["new_state"] is None
            or event.data["new_state"].state == "unavailable"
        )
    ]
    assert went_unavailable == []

    await tick(hass, freezer, first)
    assert hass.states.get("input_boolean.garage_plug").state == STATE_ON


async def test_bad_sensor_readings_do_not_stop_planning(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A NaN state of charge or base load is ignored; Wh are Wh."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    hass.states.async_set("sensor.battery_soc", "nan", {"unit_of_measurement": "%"})
    hass.states.async_set("sensor.house", "nan", {"unit_of_measurement": "W"})
    entry = await set_up(
        hass,
        (CAR, "car"),
        (BATTERY, "battery"),
        options={"base_load_kw": 0.3, "base_load_entity": "sensor.house"},
    )
    plan = entry.runtime_data.plan
    assert plan.last_error is None
    assert len(planned_on(entry, "car")) == 4
    assert plan.data.base_load_kw == pytest.approx(0.3)

    hass.states.async_set("sensor.battery_soc", "3000", {"unit_of_measurement": "Wh"})
    hass.states.async_set("sensor.house", "450", {"unit_of_measurement": "W"})
    await hass.services.async_call(DOMAIN, "replan", blocking=True)
    schedule = plan.data
    index = schedule.index(EVENING + SLOT)
    assert schedule.loads["battery"].soc_kwh[index] == pytest.approx(3.0, abs=0.01)
    assert schedule.base_load_kw == pytest.approx(0.45)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"boiler_efficiency": 0}, "boiler_efficiency"),
        ({"boiler_efficiency": "ninety"}, "boiler_efficiency"),
        ({"power_kw": float("nan")}, "power_kw"),
        ({"actuator": {"type": "gpio", "pin": "seventeen"}}, "actuator.pin"),
        ({"actuator": {"type": "gpio", "pin": 40}}, "actuator.pin"),
        ({"actuator": {"type": "entity"}}, "actuator.entity_id"),
        (
            {"actuator": {"type": "select", "entity_id": "input_select.x"}},
            "actuator.options",
        ),
        ({"actuator": "a plug"}, "actuator"),
    ],
)
async def test_one_bad_load_never_stops_the_others(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
    issue_registry: ir.IssueRegistry,
    changes: dict[str, Any],
    field: str,
) -> None:
    """Settings edited outside the form: that load gets a repair issue, not the rest."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    heater = {
        "kind": "immersion",
        "name": "Hot water",
        "power_kw": 3.0,
        "hours": 1.0,
        "cheaper_than_gas": True,
        "boiler_efficiency": 0.9,
        "window_start": "00:00",
        "window_end": "00:00",
        **changes,
    }
    entry = await set_up(hass, (CAR, "car"), (heater, "heater"))
    assert len(planned_on(entry, "car")) == 4
    assert "heater" not in entry.runtime_data.plan.loads
    issue = issue_registry.async_get_issue(DOMAIN, "invalid_load_heater")
    assert issue is not None
    assert issue.translation_placeholders["error"].startswith(f"{field}: ")


async def test_a_relay_driver_failing_oddly_stops_only_its_load(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
    issue_registry: ir.IssueRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A GPIO library raising ValueError is that relay's repair issue only."""
    import sys  # noqa: PLC0415

    class BrokenGpio:
        BCM, OUT, HIGH, LOW = 11, 0, 1, 0

        def setmode(self, mode: int) -> None:
            raise ValueError("a channel number is invalid")

        def setwarnings(self, flag: bool) -> None:
            pass

    monkeypatch.setitem(sys.modules, "RPi", type(sys)("RPi"))
    monkeypatch.setitem(sys.modules, "RPi.GPIO", BrokenGpio())
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    relay_car = {**CAR, "name": "Van", "actuator": {"type": "gpio", "pin": 17}}
    entry = await set_up(hass, (CAR, "car"), (relay_car, "van"))
    first = planned_on(entry, "car")[0]
    await tick(hass, freezer, first)
    assert hass.states.get("input_boolean.car").state == STATE_ON
    issue = issue_registry.async_get_issue(DOMAIN, "actuator_failed_van_HEMS")
    assert issue is not None


async def test_override_times_out_of_range_are_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A time the calendar cannot hold is a validation error, not a crash."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    await set_up(hass, (CAR, "car"))
    automatic = entity(hass, "switch", "car_automatic")
    for service, data in (
        ("override", {"state": "on", "until": "9999-12-31T23:59:59-05:00"}),
        ("override", {"state": "off", "until": "2030-01-01T00:00:00+00:00"}),
        ("set_requirement", {"hours": 2, "by": "9999-12-31T23:59:59-05:00"}),
    ):
        with pytest.raises(ServiceValidationError) as caught:
            await hass.services.async_call(
                DOMAIN, service, {"entity_id": automatic, **data}, blocking=True
            )
        assert caught.value.translation_key == "time_too_far"


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        (
            {"version": 7, "minor_version": 1, "data": {"state": {}}},
            "nothing could be used",
        ),
        ({"version": 1, "minor_version": 1, "data": ["a", "list"]}, "list"),
        (
            {
                "version": 1,
                "minor_version": 1,
                "data": {
                    "state": {
                        "loads": {
                            "car": {
                                "override": {
                                    "state": "on",
                                    "until": "2020-09-27T23:00:00",
                                },
                                "runs": {"2020-09-26T17:00Z": 1},
                            }
                        }
                    },
                    "schedule": {"created": "yesterday"},
                },
            },
            "part(s) dropped",
        ),
    ],
)
async def test_a_damaged_plan_store_never_stops_hems(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    stored: dict[str, Any],
    problem: str,
) -> None:
    """A plan store of another version, shape or with naive times: start anyway."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    hass_storage["hems.HEMS.plan"] = {"key": "hems.HEMS.plan", **stored}
    entry = await set_up(hass, (CAR, "car"))
    assert len(planned_on(entry, "car")) == 4
    issue = issue_registry.async_get_issue(DOMAIN, "storage_hems.HEMS.plan")
    assert issue is not None
    assert problem in issue.translation_placeholders["problem"]
    state = entry.runtime_data.plan.state.load("car")
    assert state.override is None  # a time without a zone is not trusted
    # The store is rewritten with good data at once.
    assert hass_storage["hems.HEMS.plan"]["version"] == 1
    assert isinstance(hass_storage["hems.HEMS.plan"]["data"]["state"], dict)


async def test_the_car_s_charge_decides_what_it_needs(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """40 % of 60 kWh to 80 % at 90 %: 26.7 kWh, eight half-hours at 7 kW."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    hass.states.async_set("sensor.car_soc", "40", {"unit_of_measurement": "%"})
    car = {
        **CAR,
        "car_soc_entity": "sensor.car_soc",
        "car_battery_kwh": 60,
        "target_soc": 80,
        "charger_efficiency": 0.9,
    }
    entry = await set_up(hass, (car, "car"))
    assert len(planned_on(entry, "car")) == 8
    # Topped up elsewhere to 70 %: 6.7 kWh, two half-hours, planned at once.
    freezer.move_to(EVENING + timedelta(minutes=5))
    hass.states.async_set("sensor.car_soc", "70", {"unit_of_measurement": "%"})
    await hass.async_block_till_done()
    later = EVENING + timedelta(minutes=5, seconds=2)  # past the re-plan cool-down
    freezer.move_to(later)
    async_fire_time_changed(hass, later)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(planned_on(entry, "car")) == 2
    # A car without its battery size is a setting to fix, named.
    with pytest.raises(LoadConfigError) as caught:
        parse_load("x", {**car, "car_battery_kwh": None})
    assert caught.value.field == "car_battery_kwh"


async def test_a_rejected_price_does_not_stop_the_night(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A price rejected at 01:00Z: the car is planned around the hole.

    The hole is never shown as a price, and fills when the API corrects it.
    """
    hole = datetime(2020, 9, 28, 1, 0, tzinfo=UTC)
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    octopus.patches[hole] = {"value_inc_vat": None}
    entry = await set_up(hass, (CAR, "car"), (BATTERY, "battery"))
    plan = entry.runtime_data.plan
    car = planned_on(entry, "car")
    assert len(car) == 4
    assert hole not in car
    schedule = plan.data
    index = schedule.index(hole)
    assert schedule.prices[index] is None
    assert schedule.slot_starts[-1] > hole  # the horizon goes past the hole
    assert schedule.loads["battery"].modes[index] == "charge_only"
    slots = {
        datetime.fromisoformat(slot["start"]): slot["price"] for slot in _slots(hass)
    }
    assert slots[hole] is None
    # The API corrects the record: the hole fills and the plan is made again.
    octopus.patches.clear()
    plans = async_capture_events(hass, EVENT_PLAN_UPDATED)
    later = EVENING + timedelta(minutes=20)
    freezer.move_to(later)
    async_fire_time_changed(hass, later)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert plan.data.prices[plan.data.index(hole)] is not None
    assert plans


def _slots(hass: HomeAssistant) -> list[dict[str, Any]]:
    state = hass.states.get(entity(hass, "sensor", "HEMS_planned_cost_total"))
    return list(state.attributes["slots"])


async def test_a_battery_driven_by_power_gets_few_setpoint_writes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A number setpoint in W, discharge negative; small changes not written."""
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"inverter_power": {"min": -5000, "max": 5000, "step": 1}}},
    )
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    battery = {
        **BATTERY,
        "control": "power",
        "actuator": {
            "type": "number",
            "entity_id": "input_number.inverter_power",
            "unit": "W",
            "charge_positive": True,
            "min_interval_s": 600,
            "step_kw": 0.1,
        },
    }
    entry = await set_up(hass, (CAR, "car"), (battery, "battery"))
    plan = entry.runtime_data.plan
    actuator = plan.actuators["battery"]
    schedule = plan.data
    slot = datetime(2020, 9, 27, 16, 0, tzinfo=UTC)
    written = []
    while slot < datetime(2020, 9, 28, 7, tzinfo=UTC):
        await tick(hass, freezer, slot)
        kw = schedule.loads["battery"].kw[schedule.index(slot)]
        value = float(hass.states.get("input_number.inverter_power").state)
        written.append((kw, value))
        slot += SLOT

    def direction(kw: float) -> int:
        return 0 if abs(kw) <= 0.1 else (1 if kw > 0 else -1)

    # A change of direction (charge, hold, discharge) is written at once, in W.
    for (before, _), (kw, value) in itertools.pairwise(written):
        if direction(kw) != direction(before):
            assert value == pytest.approx(kw * 1000, abs=1e-6)
    assert any(value < 0 for _, value in written)  # the house is covered
    # Fewer writes than the plan's changes of more than 0.1 kW.
    changes = sum(
        abs(kw - before) > 0.1 for (before, _), (kw, _) in itertools.pairwise(written)
    )
    assert 1 <= actuator.writes <= changes + 1
    # An override to force discharge is the inverter's full discharge power.
    await hass.services.async_call(
        DOMAIN,
        "override",
        {
            "entity_id": entity(hass, "switch", "battery_automatic"),
            "state": "force_discharge",
        },
        blocking=True,
    )
    assert float(hass.states.get("input_number.inverter_power").state) == -2000
