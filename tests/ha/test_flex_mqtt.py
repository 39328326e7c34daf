"""Flexibility events from a fleet operator over MQTT, answered on <topic>/ack."""

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.hems.const import DOMAIN
from tests.ha.conftest import FakeOctopus

from .helpers import EVENING, PUBLISHED, set_up

TOPIC = "fleet/hems/events"


@pytest.fixture
def expected_lingering_timers() -> bool:
    """MQTT's (un)subscribe cool-down runs on the loop's clock, not the frozen one."""
    return True


def answers(mqtt_mock: MqttMockHAClient) -> list[dict[str, Any]]:
    return [
        json.loads(call.args[1])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == TOPIC + "/ack"
    ]


async def send(hass: HomeAssistant, payload: Any) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    async_fire_mqtt_message(hass, TOPIC, text)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_events_over_mqtt_are_answered(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mqtt_mock: MqttMockHAClient,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, options={"flex": {"policy": "ask", "mqtt_topic": TOPIC}})
    await hass.async_block_till_done(wait_background_tasks=True)
    event = {
        "id": "fleet-7",
        "direction": "down",
        "start": (EVENING + timedelta(hours=1, minutes=50)).isoformat(),
        "end": (EVENING + timedelta(hours=2, minutes=50)).isoformat(),
        "max_import_kw": 0.5,
        "reward_p_per_kwh": 25,
    }
    await send(hass, event)
    assert answers(mqtt_mock) == [
        {"id": "fleet-7", "response": "pending", "reason": None}
    ]
    record = entry.runtime_data.flex.records["mqtt:fleet-7"]
    assert record.event.asks[0].max_import_kw == 0.5
    # The household decides: the operator hears it.
    await hass.services.async_call(
        DOMAIN,
        "flex_respond",
        {"event": "mqtt:fleet-7", "response": "accept"},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert answers(mqtt_mock)[-1] == {
        "id": "fleet-7",
        "response": "accepted",
        "reason": None,
    }
    await send(hass, {"id": "fleet-7", "action": "cancel"})
    assert answers(mqtt_mock)[-1]["response"] == "cancelled"
    assert entry.runtime_data.flex.records["mqtt:fleet-7"].response == "cancelled"


async def test_hostile_messages_are_refused_and_hems_goes_on(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mqtt_mock: MqttMockHAClient,
) -> None:
    freezer.move_to(EVENING)
    octopus.published_until = PUBLISHED
    entry = await set_up(hass, options={"flex": {"mqtt_topic": TOPIC}})
    await hass.async_block_till_done(wait_background_tasks=True)
    await send(hass, "{not json")
    await send(hass, "[1, 2]")
    await send(hass, {"direction": "down"})
    await send(hass, {"id": "x", "action": "shout"})
    await send(
        hass, {"id": "y", "direction": "down", "start": "tomorrow", "end": "later"}
    )
    await send(hass, {"id": "z", "action": "cancel"})
    await send(hass, "x" * 20_000)
    reasons = [(a["id"], a["response"], a["reason"]) for a in answers(mqtt_mock)]
    assert reasons[0][:2] == ("", "refused")
    assert reasons[0][2].startswith("payload: not JSON")
    assert reasons[1:] == [
        ("", "refused", "payload: expected a JSON object"),
        ("", "refused", "id: is required (text)"),
        ("x", "refused", "action: 'shout' is not 'add' or 'cancel'"),
        ("y", "refused", "start: 'tomorrow' is not an ISO date-time"),
        ("z", "refused", "id: no event 'z'"),
        ("", "refused", "payload: longer than 16384 bytes"),
    ]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "flex_refused_mqtt")
    assert issue is not None
    assert (
        issue.translation_placeholders["reason"] == "payload: longer than 16384 bytes"
    )
    assert entry.runtime_data.flex.records == {}
    assert entry.runtime_data.plan.data is not None
