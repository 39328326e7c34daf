"""Reports replication health to Home Assistant over MQTT discovery.

Entities (one device per box): a ``problem`` binary sensor (on when the feed
to the cloud is failing or stalled, its reason and figures as attributes),
and sensors for the queued bytes and the bytes still to send. All share one
retained JSON state topic and an availability topic that the broker sets to
``offline`` when the sidecar disappears (last will).
"""

from dataclasses import dataclass
import json
import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt

from . import __version__
from .health import Report

_LOGGER = logging.getLogger(__name__)

DISCOVERY_PREFIX = "homeassistant"
ONLINE = "online"
OFFLINE = "offline"


@dataclass(frozen=True)
class Topics:
    """The topics of one box's replication entities."""

    node_id: str

    @property
    def state(self) -> str:
        """Return the JSON state topic."""
        return f"hems/{self.node_id}/replication/state"

    @property
    def availability(self) -> str:
        """Return the availability topic (``online`` / ``offline``)."""
        return f"hems/{self.node_id}/replication/availability"

    def config(self, component: str, object_id: str) -> str:
        """Return the discovery config topic of one entity."""
        return f"{DISCOVERY_PREFIX}/{component}/{self.node_id}/{object_id}/config"


def discovery_messages(node_id: str) -> dict[str, dict[str, Any]]:
    """Return the retained discovery configs, by topic."""
    topics = Topics(node_id)
    device = {
        "identifiers": [f"{node_id}_replication"],
        "name": "InfluxDB Cloud replication",
        "manufacturer": "hems",
        "model": "replication sidecar",
        "sw_version": __version__,
    }
    common = {
        "state_topic": topics.state,
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": device,
        "origin": {"name": "hems replication sidecar", "sw_version": __version__},
    }
    problem = {
        **common,
        "name": "Replication problem",
        "unique_id": f"{node_id}_replication_problem",
        "device_class": "problem",
        "value_template": "{{ value_json.problem }}",
        "payload_on": "ON",
        "payload_off": "OFF",
        "json_attributes_topic": topics.state,
        "json_attributes_template": (
            "{{ {'reason': value_json.reason,"
            " 'response_code': value_json.response_code,"
            " 'error_message': value_json.error_message,"
            " 'checked_at': value_json.checked_at} | tojson }}"
        ),
    }
    sensors = {
        "queue_bytes": "Replication queue",
        "remaining_bytes": "Replication backlog",
    }
    messages = {topics.config("binary_sensor", "replication_problem"): problem}
    for key, name in sensors.items():
        messages[topics.config("sensor", f"replication_{key}")] = {
            **common,
            "name": name,
            "unique_id": f"{node_id}_replication_{key}",
            "device_class": "data_size",
            "unit_of_measurement": "B",
            "state_class": "measurement",
            "entity_category": "diagnostic",
            "value_template": f"{{{{ value_json.{key} }}}}",
        }
    return messages


class Reporter:
    """Publishes discovery, availability and state to the broker."""

    def __init__(
        self, host: str, port: int, username: str, password: str, node_id: str
    ) -> None:
        """Prepare a client that logs in as ``username``; connect() starts it."""
        self.topics = Topics(node_id)
        self._host = host
        self._port = port
        self._node_id = node_id
        self._connected = threading.Event()
        self._answered = threading.Event()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"{node_id}-replication",
            protocol=mqtt.MQTTv5,
        )
        self._client.username_pw_set(username, password)
        # While the broker is away, queue a bounded number of reports: the
        # first one after reconnecting supersedes them anyway (retained).
        self._client.max_queued_messages_set(50)
        self._client.will_set(self.topics.availability, OFFLINE, qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._last: Report | None = None

    def connect(self, timeout: float = 10.0) -> bool:
        """Connect and start the network thread; return whether it logged in.

        The client keeps retrying in the background either way.
        """
        self._client.connect_async(self._host, self._port, keepalive=60)
        self._client.loop_start()
        self._answered.wait(timeout)
        return self._connected.is_set()

    def close(self) -> None:
        """Say ``offline`` and disconnect (the will covers a crash)."""
        if self._connected.is_set():
            info = self._client.publish(
                self.topics.availability, OFFLINE, qos=1, retain=True
            )
            info.wait_for_publish(5)
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, report: Report) -> None:
        """Publish a state report (retained)."""
        self._last = report
        self._client.publish(
            self.topics.state, json.dumps(report.payload()), qos=1, retain=True
        )

    def _announce(self) -> None:
        for topic, config in discovery_messages(self._node_id).items():
            self._client.publish(topic, json.dumps(config), qos=1, retain=True)
        self._client.publish(self.topics.availability, ONLINE, qos=1, retain=True)
        if self._last is not None:
            self.publish(self._last)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: Any,
        properties: object,
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning("MQTT broker refused the login: %s", reason)
            self._answered.set()
            return
        client.subscribe(f"{DISCOVERY_PREFIX}/status", qos=1)
        self._announce()
        self._connected.set()
        self._answered.set()
        _LOGGER.info("connected to MQTT, discovery published")

    def _on_message(
        self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        # Home Assistant's birth message: it (re)started, announce again.
        if message.payload == ONLINE.encode():
            self._announce()
