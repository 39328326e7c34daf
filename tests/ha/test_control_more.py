"""Control edge cases: SoC drift, import limit, damaged storage, recovery, DST."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import sys

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.hems.actuators import i2c as i2c_driver
from custom_components.hems.const import (
    DOMAIN,
    EVENT_LOAD_STOPPED,
    EVENT_PLAN_UPDATED,
)
from tests.actuators.conftest import FakeI2c

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


async def test_soc_drift_triggers_a_replan(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """A battery far from its planned state of charge is planned again."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (BATTERY, "battery"))
    planned = entry.runtime_data.plan.data.loads["battery"].soc_kwh
    assert planned is not None
    assert planned[0] == 1.0  # 25 % of 4 kWh
    updates = async_capture_events(hass, EVENT_PLAN_UPDATED)

    hass.states.async_set("sensor.battery_soc", "30", {"unit_of_measurement": "%"})
    await hass.async_block_till_done()
    assert updates == []  # 0.2 kWh off: within the margin

    hass.states.async_set("sensor.battery_soc", "80", {"unit_of_measurement": "%"})
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=11))  # the re-plan request is debounced
    await tick(hass, freezer, EVENING + timedelta(seconds=20))
    assert len(updates) == 1
    planned = entry.runtime_data.plan.data.loads["battery"].soc_kwh
    assert planned is not None
    assert planned[1] == pytest.approx(3.2)


async def test_import_limit_that_cannot_be_met(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A limit below the car's power gives a best-effort plan and a repair issue."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"), options={"import_limit_kw": 5.0})
    issue = issue_registry.async_get_issue(DOMAIN, "import_limit_exceeded_HEMS")
    assert issue is not None
    placeholders = issue.translation_placeholders or {}
    assert placeholders["limit"] == "5"
    assert len(planned_on(entry, "car")) == 4
    assert entry.runtime_data.plan.data.limit_violation_kwh > 0
    # It says which load and which half-hours: the car's four, 2 kW over.
    assert placeholders["loads"] == "Car (7 kW, window 18:00-07:00)"
    assert placeholders["worst"] == "2"
    assert placeholders["when"].count("-") >= 1
    assert placeholders["when"].startswith(("Sun", "Mon"))


async def test_damaged_stored_plan_is_replaced(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
    hass_storage: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A plan file that cannot be read is logged and planned afresh."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    hass_storage["hems.HEMS.plan"] = {
        "version": 1,
        "minor_version": 1,
        "key": "hems.HEMS.plan",
        "data": {"state": {"loads": {"car": {"runs": {"x": "many"}}}}, "schedule": {}},
    }
    entry = await set_up(hass, (CAR, "car"))
    assert "state.loads.car.runs.x = 'many'" in caplog.text
    assert len(planned_on(entry, "car")) == 4
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "storage_hems.HEMS.plan")
    assert issue is not None
    assert "1 part(s) dropped" in issue.translation_placeholders["problem"]


async def test_switch_recovers_and_stops(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    issue_registry: ir.IssueRegistry,
) -> None:
    """When the missing plug appears the issue clears; a finished run stops it."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    stopped = async_capture_events(hass, EVENT_LOAD_STOPPED)
    entry = await set_up(hass, (CAR, "car"))
    assert (
        issue_registry.async_get_issue(DOMAIN, "actuator_failed_car_HEMS") is not None
    )

    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"car": {}}}
    )
    slots = planned_on(entry, "car")
    await tick(hass, freezer, slots[0])
    assert hass.states.get("input_boolean.car").state == STATE_ON
    assert issue_registry.async_get_issue(DOMAIN, "actuator_failed_car_HEMS") is None
    assert hass.states.get(entity(hass, "switch", "car_automatic")).state == STATE_ON

    slot = slots[0] + SLOT
    while not stopped:
        await tick(hass, freezer, slot)
        slot += SLOT
    assert stopped[0].data == {"load": "Car", "load_id": "car", "state": "off"}
    assert slot - SLOT not in slots


async def test_automatic_switch_hands_back_to_the_plan(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """Turning Automatic back on applies the plan at once."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, (CAR, "car"))
    first = planned_on(entry, "car")[0]
    automatic = entity(hass, "switch", "car_automatic")
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": automatic}, blocking=True
    )
    await tick(hass, freezer, first)
    assert hass.states.get("input_boolean.car").state != STATE_ON
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": automatic}, blocking=True
    )
    assert hass.states.get("input_boolean.car").state == STATE_ON
    assert hass.states.get(automatic).state == STATE_ON


async def test_clock_change_night(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    devices: None,
) -> None:
    """On the 50-half-hour night the car still gets exactly its planned slots."""
    start = datetime(2020, 10, 24, 16, 10, tzinfo=UTC)  # 17:10 BST
    freezer.move_to(start)
    octopus.published_until = datetime(2020, 10, 26, 0, tzinfo=UTC)
    entry = await set_up(hass, (CAR, "car"))
    (window,) = [
        w
        for w in entry.runtime_data.plan.data.loads["car"].windows
        if w.start < start + timedelta(hours=3)
    ]
    # 18:00 BST to 07:00 GMT: 14 hours, 28 half-hours.
    assert window.start == datetime(2020, 10, 24, 17, tzinfo=UTC)
    assert window.end == datetime(2020, 10, 25, 7, tzinfo=UTC)
    slots = [s for s in planned_on(entry, "car") if s < window.end]
    assert len(slots) == 4
    ran = []
    slot = datetime(2020, 10, 24, 16, 30, tzinfo=UTC)
    while slot < window.end:
        await tick(hass, freezer, slot)
        if hass.states.get("input_boolean.car").state == STATE_ON:
            ran.append(slot)
        slot += SLOT
    assert ran == slots


@pytest.fixture
def relay_hat(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeI2c]:
    """Fake smbus2 at the library boundary, with an EP-0099 board on bus 1."""
    # Buses are shared process-wide: start from none, whatever ran before.
    i2c_driver._buses.clear()
    fake = FakeI2c()
    fake.add_device(1, 0x10)
    monkeypatch.setitem(sys.modules, "smbus2", fake.module())
    yield fake
    assert not i2c_driver._buses, "an I2C bus was left open"


async def test_i2c_relay_hat_follows_the_plan(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    relay_hat: FakeI2c,
) -> None:
    """A car on channel 2 of an I2C relay HAT: register 2 follows the plan."""
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    car = {
        **CAR,
        "actuator": {
            "type": "i2c",
            "bus": 1,
            "address": 0x10,
            "channel": 2,
            "board": "register_per_channel",
        },
    }
    entry = await set_up(hass, (car, "car"))
    board = relay_hat.buses[1][0x10]
    slots = planned_on(entry, "car")
    slot = datetime(2020, 9, 27, 16, 30, tzinfo=UTC)
    while slot < datetime(2020, 9, 28, 7, tzinfo=UTC):
        await tick(hass, freezer, slot)
        assert board.registers[2] == (0xFF if slot in slots else 0x00), (
            slot,
            slots,
            planned_on(entry, "car"),
        )
        slot += SLOT

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert all(bus.closed for bus in relay_hat.opened)
