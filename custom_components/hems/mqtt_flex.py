"""Flexibility events over MQTT, for fleet operators (through HA's MQTT).

An event is a JSON object on the configured topic, with the fields of the
``hems.flex_event`` service (``id`` required here) and ``"action": "add"``
(the default) or ``"cancel"``.  Every event is answered on ``<topic>/ack``
with ``{"id", "response", "reason"}``: ``response`` is ``accepted``,
``declined``, ``pending`` (the household is asked; answered again when it
decides), ``cancelled`` or ``refused`` (``reason`` says why).
"""

from collections.abc import Callable, Mapping
import json
from typing import Any, Final

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback

from .const import LOGGER
from .flex import FlexEventError, Source, event_from_fields
from .flex_manager import FlexManager
from .flex_settings import FlexSettings

ACK_SUFFIX: Final = "/ack"
MAX_PAYLOAD: Final = 16_384

type Answer = tuple[str, str, str | None]  # (id, response, reason)


def ack_topic(topic: str) -> str:
    """Return the topic answers go to."""
    return topic.rstrip("/") + ACK_SUFFIX


def _message(payload: Any) -> dict[str, Any]:
    """Return the JSON object of a message (raises `FlexEventError`)."""
    if len(payload) > MAX_PAYLOAD:
        raise FlexEventError("payload", f"longer than {MAX_PAYLOAD} bytes")
    try:
        data = json.loads(payload)
    except ValueError as err:
        raise FlexEventError("payload", f"not JSON ({err})") from None
    if not isinstance(data, Mapping):
        raise FlexEventError("payload", "expected a JSON object")
    return dict(data)


def _action(fields: dict[str, Any]) -> str:
    """Remove and return the message's action (raises `FlexEventError`)."""
    event_id = fields.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise FlexEventError("id", "is required (text)")
    action = fields.pop("action", "add")
    if action not in {"add", "cancel"}:
        raise FlexEventError("action", f"{action!r} is not 'add' or 'cancel'")
    return str(action)


class MqttFlex:
    """The event topic of one entry and its answers."""

    def __init__(
        self, hass: HomeAssistant, flex: FlexManager, settings: FlexSettings
    ) -> None:
        """Initialise with the settings in force (a topic is set)."""
        self.hass = hass
        self.flex = flex
        self.settings = settings
        self.topic = settings.mqtt_topic or ""
        self._unsubs: list[Callable[[], None]] = []
        self._answered: dict[str, str] = {}

    def start(self) -> Callable[[], None]:
        """Subscribe once MQTT is up; return the unsubscribe."""
        task = self.hass.async_create_background_task(
            self._async_subscribe(), "hems MQTT flexibility events"
        )

        def _cancel() -> None:
            task.cancel()

        self._unsubs.append(_cancel)
        self._unsubs.append(self.flex.async_add_listener(self._changed))
        return self._stop

    def _stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    async def _async_subscribe(self) -> None:
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            LOGGER.warning(
                "MQTT is not available: no flexibility events on %s", self.topic
            )
            return
        self._unsubs.append(
            await mqtt.async_subscribe(self.hass, self.topic, self._async_received)
        )

    async def _async_received(self, message: mqtt.ReceiveMessage) -> None:
        await self._async_ack(*await self._async_handle(message.payload))

    async def _async_ack(
        self, event_id: str, response: str, reason: str | None = None
    ) -> None:
        self._answered[event_id] = response
        payload = json.dumps({"id": event_id, "response": response, "reason": reason})
        try:
            await mqtt.async_publish(self.hass, ack_topic(self.topic), payload)
        except Exception as err:  # noqa: BLE001 - a broker that fails: logged
            LOGGER.warning("Could not answer MQTT event %s: %s", event_id, err)

    @callback
    def _changed(self) -> None:
        """Answer again when the household decides on an MQTT event."""
        for record in self.flex.records.values():
            event_id = record.event.id
            response = str(record.response)
            if record.event.source is not Source.MQTT:
                continue
            if self._answered.get(event_id, response) != response:
                self.hass.async_create_task(self._async_ack(event_id, response))

    async def _async_handle(self, payload: Any) -> Answer:
        """Take in one message; return the answer."""
        event_id = ""
        try:
            fields = _message(payload)
            event_id = str(fields.get("id") or "")
            if _action(fields) == "cancel":
                key = f"{Source.MQTT}:{event_id}"
                if key not in self.flex.records:
                    raise FlexEventError("id", f"no event {event_id!r}")  # noqa: TRY301
                await self.flex.async_cancel(key)
                return event_id, "cancelled", None
            event = event_from_fields(
                fields, Source.MQTT, pence_per_point=self.settings.pence_per_point
            )
        except FlexEventError as err:
            self.flex.refused(str(Source.MQTT), str(err))
            return event_id, "refused", str(err)
        try:
            record = await self.flex.async_offer(event)
        except FlexEventError as err:
            return event_id, "refused", str(err)
        return event_id, str(record.response), None
