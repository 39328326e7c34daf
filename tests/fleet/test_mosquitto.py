"""The real Mosquitto (Debian's) with the stack's configuration and entrypoint."""

from pathlib import Path

import pytest

from .conftest import STACK, Broker, MqttClient, clean_env, run


def test_anonymous_client_is_refused(broker: Broker) -> None:
    with MqttClient(broker, None, None) as client:
        assert client.reason is not None
        assert client.reason.is_failure
        assert client.reason.value in {0x86, 0x87}  # bad credentials / not authorised


def test_wrong_password_is_refused(broker: Broker) -> None:
    with MqttClient(broker, broker.username, "not-the-password") as client:
        assert client.reason is not None
        assert client.reason.is_failure


def test_configured_user_can_publish_and_subscribe(broker: Broker) -> None:
    with MqttClient(broker, broker.username, broker.password) as client:
        assert client.reason is not None
        assert not client.reason.is_failure
        client.mqtt.subscribe("hems/test/#", qos=1)
        info = client.mqtt.publish("hems/test/ping", "pong", qos=1, retain=True)
        info.wait_for_publish(client.TIMEOUT)
        assert client.wait_for("hems/test/ping") == b"pong"


def test_password_never_reaches_the_log(broker: Broker) -> None:
    with MqttClient(broker, broker.username, broker.password) as client:
        assert not client.reason.is_failure
    log = broker.log.read_text()
    assert broker.password not in log
    assert "anonymous clients are refused" in log


def test_password_file_is_private_and_hashed(broker: Broker) -> None:
    passwd = broker.log.parent / "passwd"
    assert passwd.stat().st_mode & 0o077 == 0
    user, hashed = passwd.read_text().strip().split(":", 1)
    assert user == broker.username
    assert broker.password not in hashed
    assert hashed.startswith(("$7$", "$6$"))


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "MQTT_PASSWORD is not set"),
        ({"MQTT_PASSWORD": "pw", "MQTT_USERNAME": "a:b"}, "contain no ':'"),
    ],
)
def test_entrypoint_refuses_to_start_without_usable_credentials(
    tmp_path: Path, variables: dict[str, str], message: str
) -> None:
    env = clean_env(HEMS_MOSQUITTO_PASSWORD_FILE=str(tmp_path / "passwd"), **variables)
    result = run([str(STACK / "mosquitto" / "entrypoint.sh"), "true"], env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "passwd").exists()
