"""The replication sidecar against a fake InfluxDB and the real Mosquitto.

The fake InfluxDB (fake_influxdb.py) implements the remotes and replications
endpoints as the InfluxDB OSS OpenAPI contract defines them and keeps state,
so idempotency and updates are seen as the requests the sidecar makes.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import json
import logging
import threading
import urllib.error
import urllib.request

import pytest
from replication_sidecar import service
from replication_sidecar.health import Report, Status, Tracker
from replication_sidecar.influx import ApiError, InfluxApi, NotFoundError
from replication_sidecar.mqtt import Reporter, Topics, discovery_messages
from replication_sidecar.reconcile import reconcile
from replication_sidecar.settings import Settings, SettingsError

from .conftest import Broker, MqttClient, free_port
from .fake_influxdb import ApiFailureError, FakeInfluxDB, running

LOCAL_TOKEN = "local-admin-token-1"  # noqa: S105
CLOUD_TOKEN = "cloud-write-token-2"  # noqa: S105
MQTT_PASSWORD = "broker-Secret-4711"  # noqa: S105  (conftest's broker)
CLOUD_URL = "https://eu-central-1-1.aws.cloud2.influxdata.com"
CLOUD_ORG = "a1b2c3d4e5f60718"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def influx(socket_enabled: None) -> Iterator[FakeInfluxDB]:
    """Run the fake InfluxDB with the org and bucket first boot creates."""
    with running(LOCAL_TOKEN) as fake:
        org_id = fake.add_org("hems")
        fake.add_bucket(org_id, "home_assistant")
        fake.add_bucket(fake.add_org("other"), "home_assistant")
        yield fake


def variables(url: str, **changes: str) -> dict[str, str]:
    """Return the sidecar's environment for the InfluxDB at ``url``."""
    env = {
        "HEMS_LOCAL_INFLUXDB_URL": url,
        "INFLUXDB_ADMIN_TOKEN": LOCAL_TOKEN,
        "INFLUXDB_ORG": "hems",
        "INFLUXDB_BUCKET": "home_assistant",
        "INFLUXDB_CLOUD_URL": CLOUD_URL,
        "INFLUXDB_CLOUD_TOKEN": CLOUD_TOKEN,
        "INFLUXDB_CLOUD_ORG_ID": CLOUD_ORG,
        "INFLUXDB_CLOUD_BUCKET": "fleet",
        "MQTT_PASSWORD": MQTT_PASSWORD,
        "BALENA_DEVICE_UUID": "f00dfeed1234567890",
    }
    env.update(changes)
    return env


def reconcile_with(fake: FakeInfluxDB, **changes: str) -> list[str]:
    """Run one reconciliation with fresh settings; return its actions."""
    api = InfluxApi(fake.url, LOCAL_TOKEN)
    try:
        return reconcile(api, Settings.from_env(variables(fake.url, **changes))).actions
    finally:
        api.close()


def writes(fake: FakeInfluxDB, since: int = 0) -> list[tuple[str, str, int]]:
    """Return (method, path, status) of the changing requests from ``since`` on."""
    return [
        (r.method, r.path, r.status)
        for r in fake.state.requests[since:]
        if r.method in {"POST", "PATCH", "DELETE"}
    ]


def only(items: dict[str, dict]) -> dict:
    """Return the single value of a one-item mapping."""
    assert len(items) == 1
    return next(iter(items.values()))


# --- reconciliation ----------------------------------------------------------


def test_first_run_creates_the_remote_and_the_replication(influx: FakeInfluxDB) -> None:
    assert reconcile_with(influx) == ["created remote", "created replication"]
    remote = only(influx.state.remotes)
    assert remote["name"] == "hems-cloud"
    assert remote["remoteURL"] == CLOUD_URL
    assert remote["remoteOrgID"] == CLOUD_ORG
    assert remote["allowInsecureTLS"] is False
    assert influx.state.remote_tokens[remote["id"]] == CLOUD_TOKEN
    rep = only(influx.state.replications)
    hems_org = next(k for k, v in influx.state.orgs.items() if v == "hems")
    bucket = next(
        k for k, v in influx.state.buckets.items() if v == (hems_org, "home_assistant")
    )
    assert rep["orgID"] == hems_org
    assert rep["localBucketID"] == bucket
    assert rep["remoteID"] == remote["id"]
    assert rep["remoteBucketName"] == "fleet"
    assert "remoteBucketID" not in rep
    assert rep["maxQueueSizeBytes"] == 67_108_860
    assert rep["dropNonRetryableData"] is False
    assert influx.state.max_ages[rep["id"]] == 604_800
    assert writes(influx) == [
        ("POST", "/api/v2/remotes", 201),
        ("POST", "/api/v2/replications", 201),
    ]


def test_second_run_creates_nothing(influx: FakeInfluxDB) -> None:
    reconcile_with(influx)
    before = len(influx.state.requests)
    assert reconcile_with(influx) == []
    assert writes(influx, before) == []
    assert len(influx.state.remotes) == len(influx.state.replications) == 1


@pytest.mark.parametrize(
    ("changes", "actions", "patched"),
    [
        ({"INFLUXDB_CLOUD_TOKEN": "rotated-token"}, ["updated remote"], "remotes"),
        (
            {"INFLUXDB_CLOUD_URL": "https://other.example"},
            ["updated remote"],
            "remotes",
        ),
        ({"REPLICATION_ALLOW_INSECURE_TLS": "true"}, ["updated remote"], "remotes"),
        (
            {"REPLICATION_MAX_AGE_SECONDS": "86400"},
            ["updated replication"],
            "replications",
        ),
        (
            {"REPLICATION_MAX_QUEUE_BYTES": "134217720"},
            ["updated replication"],
            "replications",
        ),
        (
            {"REPLICATION_DROP_NON_RETRYABLE": "true"},
            ["updated replication"],
            "replications",
        ),
        ({"INFLUXDB_CLOUD_BUCKET": "fleet2"}, ["updated replication"], "replications"),
    ],
)
def test_changed_variables_are_patched(
    influx: FakeInfluxDB, changes: dict[str, str], actions: list[str], patched: str
) -> None:
    reconcile_with(influx)
    remote_id = only(influx.state.remotes)["id"]
    rep_id = only(influx.state.replications)["id"]
    before = len(influx.state.requests)
    assert reconcile_with(influx, **changes) == actions
    target = remote_id if patched == "remotes" else rep_id
    assert writes(influx, before) == [("PATCH", f"/api/v2/{patched}/{target}", 200)]
    # Same objects, new settings; and the run after that is quiet again.
    assert only(influx.state.remotes)["id"] == remote_id
    assert only(influx.state.replications)["id"] == rep_id
    assert reconcile_with(influx, **changes) == []


def test_patched_values_arrive(influx: FakeInfluxDB) -> None:
    reconcile_with(influx)
    reconcile_with(
        influx,
        INFLUXDB_CLOUD_TOKEN="rotated-token",  # noqa: S106
        REPLICATION_MAX_AGE_SECONDS="86400",
        REPLICATION_MAX_QUEUE_BYTES="134217720",
    )
    remote, rep = only(influx.state.remotes), only(influx.state.replications)
    assert influx.state.remote_tokens[remote["id"]] == "rotated-token"
    assert influx.state.max_ages[rep["id"]] == 86_400
    assert rep["maxQueueSizeBytes"] == 134_217_720


def test_new_local_bucket_replaces_the_replication(influx: FakeInfluxDB) -> None:
    reconcile_with(influx)
    old = only(influx.state.replications)["id"]
    hems_org = next(k for k, v in influx.state.orgs.items() if v == "hems")
    new_bucket = influx.add_bucket(hems_org, "energy")
    before = len(influx.state.requests)
    assert reconcile_with(influx, INFLUXDB_BUCKET="energy") == ["replaced replication"]
    assert writes(influx, before) == [
        ("DELETE", f"/api/v2/replications/{old}", 204),
        ("POST", "/api/v2/replications", 201),
    ]
    assert only(influx.state.replications)["localBucketID"] == new_bucket


def test_cloud_bucket_by_id(influx: FakeInfluxDB) -> None:
    reconcile_with(influx, INFLUXDB_CLOUD_BUCKET_ID="0fedcba987654321")
    rep = only(influx.state.replications)
    assert rep["remoteBucketID"] == "0fedcba987654321"
    assert "remoteBucketName" not in rep
    # Switching to a name needs a new replication (the API cannot unset an ID).
    assert reconcile_with(influx) == ["replaced replication"]
    assert only(influx.state.replications)["remoteBucketName"] == "fleet"


def test_objects_of_another_org_are_left_alone(influx: FakeInfluxDB) -> None:
    reconcile_with(influx, INFLUXDB_ORG="other")
    assert reconcile_with(influx) == ["created remote", "created replication"]
    orgs = sorted(rep["orgID"] for rep in influx.state.replications.values())
    assert orgs == sorted(influx.state.orgs)
    assert reconcile_with(influx, INFLUXDB_ORG="other") == []
    assert reconcile_with(influx) == []


# --- API errors --------------------------------------------------------------


def test_wrong_local_token_is_a_401(influx: FakeInfluxDB) -> None:
    api = InfluxApi(influx.url, "wrong")
    try:
        with pytest.raises(ApiError) as caught:
            api.org_id("hems")
    finally:
        api.close()
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert "wrong" not in str(caught.value)


def test_unknown_org_is_a_404(influx: FakeInfluxDB) -> None:
    api = InfluxApi(influx.url, LOCAL_TOKEN)
    try:
        with pytest.raises(NotFoundError) as caught:
            reconcile(
                api, Settings.from_env(variables(influx.url, INFLUXDB_ORG="nope"))
            )
    finally:
        api.close()
    assert caught.value.status == 404
    assert '"nope" not found' in caught.value.message


def test_refused_creation_is_reported_and_retried(influx: FakeInfluxDB) -> None:
    influx.fail_next(
        "POST",
        "/api/v2/replications",
        ApiFailureError(422, "unprocessable entity", "remote bucket not found"),
    )
    watcher, api = make_watcher(influx)
    try:
        first = watcher.round()
        second = watcher.round()
    finally:
        api.close()
    assert first.problem
    assert first.reason == (
        "InfluxDB refused: HTTP 422 unprocessable entity: remote bucket not found"
    )
    assert not second.problem
    assert len(influx.state.replications) == 1


def test_unreachable_local_influxdb(socket_enabled: None) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    api = InfluxApi(url, LOCAL_TOKEN, timeout_ms=2000)
    settings = Settings.from_env(variables(url))
    try:
        report = service.Watcher(api, settings, clock=lambda: START).round()
    finally:
        api.close()
    assert report.problem
    assert report.reason == "local InfluxDB unreachable"


# The fake itself refuses what InfluxDB's API contract refuses.


def raw_request(
    fake: FakeInfluxDB, method: str, path: str, body: object, token: str = LOCAL_TOKEN
) -> tuple[int, dict]:
    """Send one JSON request to the fake; return (status, JSON body)."""
    request = urllib.request.Request(  # noqa: S310
        fake.url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def creation_request(fake: FakeInfluxDB, **changes: object) -> dict[str, object]:
    """Return a valid ReplicationCreationRequest with ``changes`` (None drops)."""
    reconcile_with(fake)
    rep = only(fake.state.replications)
    body = {
        "name": "x",
        "orgID": rep["orgID"],
        "remoteID": rep["remoteID"],
        "localBucketID": rep["localBucketID"],
        "remoteBucketName": "b",
        "maxQueueSizeBytes": 67_108_860,
        "maxAgeSeconds": 0,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({}, 201, None),
        ({"maxQueueSizeBytes": 33_554_429}, 400, "invalid"),
        ({"maxAgeSeconds": -1}, 400, "invalid"),
        ({"maxAgeSeconds": None}, 400, "invalid"),
        ({"localBucketID": None}, 400, "invalid"),
        ({"dropNonRetryableData": "yes"}, 400, "invalid"),
        ({"maxAgeSecs": 5}, 400, "invalid"),
        ({"remoteBucketID": "0123"}, 422, "unprocessable entity"),
        ({"remoteBucketName": None}, 422, "unprocessable entity"),
        ({"remoteID": "ffffffffffffffff"}, 404, "not found"),
    ],
)
def test_fake_checks_replication_creation(
    influx: FakeInfluxDB, changes: dict, status: int, code: str | None
) -> None:
    body = creation_request(influx, **changes)
    got, answer = raw_request(influx, "POST", "/api/v2/replications", body)
    assert got == status
    assert answer.get("code") == code


def test_fake_checks_remote_creation(influx: FakeInfluxDB) -> None:
    org = next(iter(influx.state.orgs))
    body = {
        "name": "r",
        "orgID": org,
        "remoteURL": CLOUD_URL,
        "allowInsecureTLS": False,
    }
    assert raw_request(influx, "POST", "/api/v2/remotes", body)[0] == 400
    body["remoteAPIToken"] = CLOUD_TOKEN
    assert raw_request(influx, "POST", "/api/v2/remotes", body, token="bad") == (  # noqa: S106
        401,
        {"code": "unauthorized", "message": "unauthorized access"},
    )
    assert raw_request(influx, "POST", "/api/v2/remotes", body)[0] == 201
    assert raw_request(influx, "PATCH", "/api/v2/remotes/0", {"name": "n"})[0] == 404


# --- health ------------------------------------------------------------------


def make_watcher(
    fake: FakeInfluxDB, clock: list[datetime] | None = None, **changes: str
) -> tuple[service.Watcher, InfluxApi]:
    """Return a watcher over the fake whose clock reads ``clock[0]``."""
    times = clock if clock is not None else [START]
    settings = Settings.from_env(variables(fake.url, **changes))
    api = InfluxApi(fake.url, LOCAL_TOKEN)
    return service.Watcher(api, settings, clock=lambda: times[0]), api


@pytest.mark.parametrize(
    ("health", "problem", "reason"),
    [
        ({"latestResponseCode": 204}, False, "replicating"),
        ({}, False, "replicating"),
        (
            {
                "latestResponseCode": 401,
                "latestErrorMessage": "token is not authorized",
            },
            True,
            "InfluxDB Cloud answered HTTP 401: token is not authorized",
        ),
        ({"latestResponseCode": 503}, True, "InfluxDB Cloud answered HTTP 503"),
        (
            {"latestErrorMessage": "dial tcp: i/o timeout"},
            True,
            "replication error: dial tcp: i/o timeout",
        ),
        (
            {
                "currentQueueSizeBytes": 64_000_000,
                "remainingBytesToBeSynced": 64_000_000,
            },
            True,
            (
                "queue 64000000 of 67108860 bytes: nearly full,"
                " the oldest data will be dropped"
            ),
        ),
    ],
)
def test_health_of_the_replication(
    influx: FakeInfluxDB, health: dict, problem: bool, reason: str
) -> None:
    watcher, api = make_watcher(influx)
    try:
        watcher.round()
        influx.set_health(watcher.replication_id, **health)
        report = watcher.round()
    finally:
        api.close()
    assert (report.problem, report.reason) == (problem, reason)
    assert report.queue_bytes == health.get("currentQueueSizeBytes", 0)
    assert report.remaining_bytes == health.get("remainingBytesToBeSynced", 0)
    assert report.response_code == health.get("latestResponseCode")
    assert report.checked_at == "2026-11-25T12:00:00+00:00"


def test_a_backlog_that_stops_shrinking_is_a_lost_feed(influx: FakeInfluxDB) -> None:
    clock = [START]
    watcher, api = make_watcher(influx, clock, REPLICATION_STALL_SECONDS="600")
    try:
        watcher.round()
        rep_id = watcher.replication_id
        reports = []
        for minutes, remaining in [
            (1, 5000),
            (6, 5000),
            (11, 5000),
            (12, 4000),
            (13, 4000),
        ]:
            clock[0] = START + timedelta(minutes=minutes)
            influx.set_health(
                rep_id, remainingBytesToBeSynced=remaining, latestResponseCode=204
            )
            reports.append(watcher.round())
    finally:
        api.close()
    assert [r.problem for r in reports] == [False, False, True, False, False]
    assert reports[2].reason == "no progress for 660 s with 5000 bytes to send"


def test_a_deleted_replication_is_reported_and_recreated(influx: FakeInfluxDB) -> None:
    watcher, api = make_watcher(influx)
    try:
        watcher.round()
        influx.state.replications.clear()
        missing = watcher.round()
        recreated = watcher.round()
    finally:
        api.close()
    assert (missing.problem, missing.reason) == (
        True,
        "replication missing: recreating it",
    )
    assert not recreated.problem
    assert len(influx.state.replications) == 1


def test_tracker_without_api() -> None:
    tracker = Tracker(stall_seconds=60)
    status = Status(
        queue_bytes=10,
        remaining_bytes=10,
        max_queue_bytes=0,
        response_code=None,
        error_message="",
    )
    assert not tracker.observe(status, START).problem
    assert tracker.observe(status, START + timedelta(seconds=61)).problem


# --- settings and secrets ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"MQTT_PASSWORD": ""}, "MQTT_PASSWORD is required"),
        ({"INFLUXDB_CLOUD_TOKEN": ""}, "INFLUXDB_CLOUD_TOKEN is required"),
        (
            {"INFLUXDB_CLOUD_URL": "ftp://x"},
            "INFLUXDB_CLOUD_URL must be an http(s) URL",
        ),
        (
            {"REPLICATION_MAX_QUEUE_BYTES": "1000"},
            "REPLICATION_MAX_QUEUE_BYTES must be at least 33554430",
        ),
        (
            {"REPLICATION_MAX_AGE_SECONDS": "week"},
            "REPLICATION_MAX_AGE_SECONDS must be a whole number",
        ),
        (
            {"REPLICATION_DROP_NON_RETRYABLE": "maybe"},
            "REPLICATION_DROP_NON_RETRYABLE must be true or false",
        ),
    ],
)
def test_bad_variables_are_named(changes: dict[str, str], message: str) -> None:
    env = variables("http://influxdb:8086") | changes
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert message in str(caught.value)
    for secret in (LOCAL_TOKEN, CLOUD_TOKEN, MQTT_PASSWORD):
        assert secret not in str(caught.value)


def test_defaults_and_disabled_replication() -> None:
    settings = Settings.from_env({"MQTT_PASSWORD": "x"})
    assert not settings.enabled
    assert settings.local_url == "http://influxdb:8086"
    assert (settings.mqtt_host, settings.mqtt_port) == ("mosquitto", 1883)
    assert settings.max_queue_size_bytes == 67_108_860
    assert settings.max_age_seconds == 604_800
    assert settings.node_id == "hems_fleet_box"
    report = service.not_configured(START)
    assert not report.problem
    assert "not configured" in report.reason


def test_secrets_never_reach_the_log(
    influx: FakeInfluxDB, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings.from_env(variables(influx.url))
    logging.getLogger("test").info("settings: %s", settings)
    influx.fail_next("POST", "/api/v2/remotes", ApiFailureError(400, "invalid", "bad"))
    watcher, api = make_watcher(influx)
    try:
        for _ in range(3):
            watcher.round()
    finally:
        api.close()
    text = caplog.text
    assert "settings: Settings(" in text
    assert "created remote" in text
    for secret in (LOCAL_TOKEN, CLOUD_TOKEN, MQTT_PASSWORD):
        assert secret not in text
        assert secret not in repr(settings)


# --- MQTT discovery ----------------------------------------------------------


def test_discovery_configs_describe_the_entities() -> None:
    messages = discovery_messages("hems_f00dfee")
    problem = messages[
        "homeassistant/binary_sensor/hems_f00dfee/replication_problem/config"
    ]
    assert problem["device_class"] == "problem"
    assert problem["state_topic"] == "hems/hems_f00dfee/replication/state"
    assert problem["availability_topic"] == "hems/hems_f00dfee/replication/availability"
    assert problem["unique_id"] == "hems_f00dfee_replication_problem"
    queue = messages["homeassistant/sensor/hems_f00dfee/replication_queue_bytes/config"]
    backlog = messages[
        "homeassistant/sensor/hems_f00dfee/replication_remaining_bytes/config"
    ]
    for sensor in (queue, backlog):
        assert sensor["device_class"] == "data_size"
        assert sensor["unit_of_measurement"] == "B"
        assert sensor["device"] == problem["device"]
    assert queue["value_template"] == "{{ value_json.queue_bytes }}"
    assert backlog["value_template"] == "{{ value_json.remaining_bytes }}"


def test_reporter_publishes_discovery_state_and_availability(broker: Broker) -> None:
    topics = Topics("hems_test")
    report = Report(
        problem=True,
        reason="InfluxDB Cloud answered HTTP 401",
        queue_bytes=5,
        remaining_bytes=7,
        response_code=401,
        checked_at="2026-11-25T12:00:00+00:00",
    )
    with MqttClient(broker, broker.username, broker.password) as watcher:
        watcher.mqtt.subscribe([("homeassistant/#", 1), ("hems/#", 1)])
        reporter = Reporter(
            "127.0.0.1", broker.port, broker.username, broker.password, "hems_test"
        )
        try:
            assert reporter.connect(timeout=5)
            reporter.publish(report)
            config = json.loads(
                watcher.wait_for(topics.config("binary_sensor", "replication_problem"))
            )
            state = json.loads(watcher.wait_for(topics.state))
            assert watcher.wait_for(topics.availability) == b"online"
        finally:
            reporter.close()
        assert watcher.wait_for(topics.availability, b"offline") == b"offline"
    assert config["device_class"] == "problem"
    assert state["problem"] == "ON"
    assert state["reason"] == "InfluxDB Cloud answered HTTP 401"
    assert (state["queue_bytes"], state["remaining_bytes"]) == (5, 7)


def test_reporter_with_a_wrong_password_does_not_connect(broker: Broker) -> None:
    reporter = Reporter("127.0.0.1", broker.port, broker.username, "wrong", "hems_test")
    try:
        assert not reporter.connect(timeout=1)
    finally:
        reporter.close()


def test_the_service_loop_end_to_end(influx: FakeInfluxDB, broker: Broker) -> None:
    settings = Settings.from_env(
        variables(
            influx.url,
            HEMS_MQTT_HOST="127.0.0.1",
            HEMS_MQTT_PORT=str(broker.port),
            REPLICATION_POLL_SECONDS="1",
        )
    )
    topics = Topics(settings.node_id)
    stop = threading.Event()
    loop = threading.Thread(target=service.run, args=(settings, stop))
    with MqttClient(broker, broker.username, broker.password) as watcher:
        watcher.mqtt.subscribe("hems/#", qos=1)
        loop.start()
        try:
            state = json.loads(watcher.wait_for(topics.state))
        finally:
            stop.set()
            loop.join(timeout=10)
    assert not loop.is_alive()
    assert state["problem"] == "OFF"
    assert state["reason"] == "replicating"
    assert len(influx.state.replications) == 1


def test_without_a_cloud_the_box_reports_no_problem(broker: Broker) -> None:
    settings = Settings.from_env(
        {
            "MQTT_PASSWORD": broker.password,
            "HEMS_MQTT_HOST": "127.0.0.1",
            "HEMS_MQTT_PORT": str(broker.port),
        }
    )
    stop = threading.Event()
    loop = threading.Thread(target=service.run, args=(settings, stop))
    with MqttClient(broker, broker.username, broker.password) as watcher:
        watcher.mqtt.subscribe("hems/#", qos=1)
        loop.start()
        try:
            state = json.loads(watcher.wait_for(Topics("hems_fleet_box").state))
        finally:
            stop.set()
            loop.join(timeout=10)
    assert not loop.is_alive()
    assert state["problem"] == "OFF"
    assert state["reason"] == "replication not configured (INFLUXDB_CLOUD_URL is empty)"


def test_main_refuses_bad_variables(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("MQTT_PASSWORD", "INFLUXDB_CLOUD_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INFLUXDB_CLOUD_TOKEN", CLOUD_TOKEN)
    assert service.main() == 1
    assert "not starting: MQTT_PASSWORD is required" in caplog.text
    assert CLOUD_TOKEN not in caplog.text
