"""The fleet box as one system (issue 13), without Docker.

Every service of docker-compose.yml runs as a real process from its own
``stack/<service>/`` entrypoint and configuration, in a network namespace
named after it (system_box.py, netlab.py), with balena.yml's variables plus
the test's secrets; an aggregator's OpenADR VTN (openleadr) runs in a
``cloud`` namespace. The test is a LAN client of the box and checks, through
public interfaces only, one part after another; each part is reported as
passed, failed (with why) or not run (with why), and any failure fails it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import functools
import importlib.util
import json
import shutil
import time
from typing import Any

import aiohttp
import pytest
import pytest_socket

from tests.conftest import AGILE_CSV_GZ

from .conftest import MQTT_USER, Broker, MqttClient, open_workdir
from .netlab import LabError, Service
from .system_box import (
    ADDRESSES,
    ALIASES,
    OPENADR,
    SECRETS,
    VTN_HOST,
    Box,
    new_box,
    start_configurator,
    start_dns,
    start_homeassistant,
    start_influxdb,
    start_mosquitto,
    start_proxy,
    start_replication,
    start_vtn,
    start_wifi_repeater,
)

# Bounded: a slow machine fails with the report instead of hanging the run.
pytestmark = pytest.mark.timeout(300)

PROXY = f"http://{ADDRESSES['proxy']}"
WEBSOCKET = f"ws://{ADDRESSES['proxy']}/api/websocket"
EVENT_ID = "fleet-evt-1"
LEVEL_UPLIFT_P = 20.0  # level 2 of a SIMPLE signal, at hems' default uplift
STARTUP = 150.0
OWNER = {"name": "Owner", "username": "owner", "password": "owner-Pass-1234"}


@dataclass
class Report:
    """What each part of the box did."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)

    async def part(self, name: str, check: Callable[[], Awaitable[None]]) -> bool:
        """Run one part; record passed, or failed with its error."""
        started = time.monotonic()
        try:
            await check()
        except Exception as err:  # noqa: BLE001 - every failure is reported
            self.lines.append((name, "FAILED", f"{type(err).__name__}: {err}"))
            return False
        self.lines.append((name, "passed", f"{time.monotonic() - started:.1f} s"))
        return True

    def not_run(self, name: str, reason: str) -> None:
        """Record a part that cannot run here, and why."""
        self.lines.append((name, "not run", reason))

    @property
    def failed(self) -> list[str]:
        """Return the failed parts' lines."""
        return [f"{n}: {d}" for n, outcome, d in self.lines if outcome == "FAILED"]

    def text(self) -> str:
        """Return the report, one part a line."""
        return "\n".join(f"[{o}] {n}: {d}" for n, o, d in self.lines)


class Owner:
    """Home Assistant's owner, through the proxy."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        """Use ``session`` (no login yet)."""
        self.session = session
        self.token = ""

    @property
    def headers(self) -> dict[str, str]:
        """Return the owner's authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call Home Assistant's REST API as the owner; return the JSON answer."""
        async with self.session.request(
            method, PROXY + path, json=body, headers=self.headers
        ) as response:
            assert response.status < 300, f"{method} {path}: {response.status}"
            return await response.json()

    async def states(self) -> list[dict[str, Any]]:
        """Return every entity's state."""
        result: list[dict[str, Any]] = await self.api("GET", "/api/states")
        return result

    async def state(self, entity_id: str) -> dict[str, Any]:
        """Return one entity's state."""
        result: dict[str, Any] = await self.api("GET", f"/api/states/{entity_id}")
        return result

    async def log_in(self) -> bool:
        """Log in with the owner's password (Home Assistant's login flow)."""
        client_id = f"{PROXY}/"
        flow = await self.post(
            "/auth/login_flow",
            {
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{client_id}?auth_callback=1",
            },
        )
        done = await self.post(
            f"/auth/login_flow/{flow['flow_id']}",
            {
                "client_id": client_id,
                "username": OWNER["username"],
                "password": OWNER["password"],
            },
        )
        assert done["type"] == "create_entry", done
        async with self.session.post(
            f"{PROXY}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": done["result"],
                "client_id": client_id,
            },
        ) as response:
            assert response.status == 200, await response.text()
            self.token = (await response.json())["access_token"]
        return True

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON without a login; return the JSON answer."""
        async with self.session.post(PROXY + path, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def websocket(self, *commands: dict[str, Any]) -> list[Any]:
        """Log in over the websocket API and return each command's result."""
        results = []
        async with self.session.ws_connect(WEBSOCKET) as socket:
            assert (await _receive(socket))["type"] == "auth_required"
            await socket.send_json({"type": "auth", "access_token": self.token})
            assert (await _receive(socket))["type"] == "auth_ok"
            for number, command in enumerate(commands, start=1):
                await socket.send_json({"id": number, **command})
                answer = await _receive(socket)
                assert answer["success"], answer
                results.append(answer["result"])
        return results


async def _receive(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """Return the next JSON message (a closed socket is an AssertionError)."""
    message = await socket.receive()
    assert message.type is aiohttp.WSMsgType.TEXT, f"websocket: {message}"
    answer: dict[str, Any] = json.loads(message.data)
    return answer


async def until(what: str, check: Callable[[], Awaitable[Any]], seconds: float) -> Any:
    """Return ``check()``'s first truthy result, polling; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            if result := await check():
                return result
        except (
            aiohttp.ClientError,
            AssertionError,
            LookupError,
            OSError,
            ValueError,
        ) as err:
            last = err
        await asyncio.sleep(0.5)
    msg = f"{what}: not within {seconds:.0f} s (last: {last!r})"
    raise AssertionError(msg)


# What each service serves, as its Dockerfile EXPOSEs it (and the VTN).
PORTS = {
    "mosquitto": [1883],
    "influxdb": [8086],
    "configurator": [3218],
    "proxy": [80, 8086],
}


async def listening() -> None:
    """Wait until every service accepts connections (Home Assistant is slower)."""
    addresses = [
        (ADDRESSES[name], port) for name, ports in PORTS.items() for port in ports
    ]
    addresses.append((ALIASES[VTN_HOST], 8080))

    async def accepts(address: tuple[str, int]) -> bool:
        _, writer = await asyncio.open_connection(*address)
        writer.close()
        await writer.wait_closed()
        return True

    for host, port in addresses:
        await until(
            f"{host}:{port} accepting", functools.partial(accepts, (host, port)), 60
        )


async def ha_up(session: aiohttp.ClientSession) -> bool:
    """Return whether Home Assistant answers through the proxy."""
    async with session.get(f"{PROXY}/api/onboarding") as response:
        return response.status == 200


def slot_start(now: datetime) -> datetime:
    """Return the start of the half-hour ``now`` is in."""
    return now.replace(minute=now.minute // 30 * 30, second=0, microsecond=0)


def vtn_record(box: Box) -> list[dict[str, Any]]:
    """Return what the VTN recorded."""
    text = (box.root / "vtn-record.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line]


# --- the parts -----------------------------------------------------------------


def check_mosquitto() -> None:
    """Check anonymous clients are refused, the configured user accepted."""
    broker = Broker(
        1883, MQTT_USER, SECRETS["MQTT_PASSWORD"], log=None,  # type: ignore[arg-type]
        host=ADDRESSES["mosquitto"],
    )  # fmt: skip
    with MqttClient(broker, None, None) as anonymous:
        assert anonymous.reason is not None
        assert anonymous.reason.is_failure, "an anonymous client got in"
    with MqttClient(broker, broker.username, broker.password) as user:
        assert user.reason is not None
        assert not user.reason.is_failure, f"the user was refused: {user.reason}"


async def check_homeassistant(owner: Owner) -> None:
    """Onboard the owner and use the websocket API, all through the proxy."""
    session = owner.session
    async with session.get(f"{PROXY}/api/onboarding") as response:
        steps = {step["step"]: step["done"] for step in await response.json()}
    assert steps.get("user") is False, steps
    client_id = f"{PROXY}/"
    async with session.post(
        f"{PROXY}/api/onboarding/users",
        json={**OWNER, "client_id": client_id, "language": "en"},
    ) as response:
        assert response.status == 200, await response.text()
        code = (await response.json())["auth_code"]
    async with session.post(
        f"{PROXY}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
    ) as response:
        assert response.status == 200, await response.text()
        owner.token = (await response.json())["access_token"]
    await running(owner)
    (user,) = await owner.websocket({"type": "auth/current_user"})
    assert user["is_owner"] is True


async def running(owner: Owner) -> None:
    """Wait until Home Assistant has started (websocket API, through the proxy)."""

    async def started() -> bool:
        (config,) = await owner.websocket({"type": "get_config"})
        return config["state"] == "RUNNING"

    await until("Home Assistant running", started, STARTUP)


async def check_configurator(session: aiohttp.ClientSession, box: Box) -> None:
    """Check the configurator answers 401 without the proxy login, 200 with it."""
    url = f"{PROXY}/configurator/"
    async with session.get(url) as response:
        assert response.status == 401, response.status
        assert response.headers["WWW-Authenticate"] == 'Basic realm="hems fleet box"'
    login = {
        "Authorization": aiohttp.encode_basic_auth(
            box.variables["PROXY_USERNAME"], SECRETS["PROXY_PASSWORD"]
        )
    }
    async with session.get(url, headers=login) as response:
        assert response.status == 200, response.status
    # It edits Home Assistant's /config: the ha-config volume both mount.
    async with session.get(
        f"{url}api/listdir", params={"path": str(box.config)}, headers=login
    ) as response:
        listing = await response.text()
    assert "configuration.yaml" in listing
    assert ".hems_bootstrapped" in listing


async def check_replication_health(owner: Owner) -> None:
    """Check the sidecar's health reaches Home Assistant over MQTT (discovery)."""

    async def problem_sensor() -> dict[str, Any] | None:
        for state in await owner.states():
            entity_id = state["entity_id"]
            if (
                entity_id.startswith("binary_sensor.")
                and entity_id.endswith("replication_problem")
                and state["state"] in {"on", "off"}
            ):
                return state
        return None

    state = await until("the replication problem sensor", problem_sensor, 60)
    assert state["attributes"]["device_class"] == "problem"
    # The sidecar made the replication on InfluxDB, which reports no error yet.
    assert (state["state"], state["attributes"]["reason"]) == ("off", "replicating")


async def add_hems(owner: Owner, box: Box) -> str:
    """Add hems through its config flow (recorded prices); return the entry ID."""
    prices = box.config / "agile.csv.gz"
    shutil.copyfile(AGILE_CSV_GZ, prices)
    flow = await owner.api(
        "POST", "/api/config/config_entries/flow", {"handler": "hems"}
    )
    assert flow["type"] == "menu", flow
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    form = await owner.api("POST", path, {"next_step_id": "replay"})
    assert form["type"] == "form", form
    done = await owner.api("POST", path, {"replay_file": str(prices)})
    assert done["type"] == "create_entry", done
    entry_id: str = done["result"]["entry_id"]
    return entry_id


async def entity_ids(owner: Owner, entry_id: str) -> dict[str, str]:
    """Return the hems entry's entity IDs by unique ID suffix."""
    (entities,) = await owner.websocket({"type": "config/entity_registry/list"})
    prefix = f"{entry_id}_"
    return {
        item["unique_id"].removeprefix(prefix): item["entity_id"]
        for item in entities
        if item["platform"] == "hems" and item["unique_id"].startswith(prefix)
    }


async def planned_price(owner: Owner, plan_id: str, start: datetime) -> float:
    """Return the price the plan uses for the half-hour at ``start``."""

    async def price() -> float | None:
        slots = (await owner.state(plan_id))["attributes"].get("slots") or []
        for slot in slots:
            if datetime.fromisoformat(slot["start"]) == start:
                return float(slot["price"])
        return None

    result: float = await until(f"a planned price at {start}", price, 60)
    return result


# --- the test ------------------------------------------------------------------


async def test_the_fleet_box_as_one_system(socket_enabled: None) -> None:
    # The LAN client reaches the box's addresses (the plugin allows loopback).
    pytest_socket.socket_allow_hosts(["127.0.0.1", "172.20.0.0/16", "198.51.100.0/24"])
    report = Report()
    event_start = slot_start(datetime.now(UTC)) + timedelta(hours=2)
    event = {"event_id": EVENT_ID, "start": event_start.isoformat(), "minutes": 30}
    with open_workdir() as root:
        box = new_box(root)
        try:
            try:
                box.lab.start()
            except LabError as err:
                pytest.fail(f"the namespaces cannot be made here: {err}")
            start_dns(box)
            start_mosquitto(box)
            start_influxdb(box)
            start_vtn(box, [{**event, "level": 2}])
            start_homeassistant(box)
            start_replication(box)
            start_configurator(box)
            start_proxy(box)
            repeater = start_wifi_repeater(box)
            with box.lab.inside("device"):
                await run_parts(box, report, event_start)
            await report.part(
                "wifi-repeater: off by the fleet's default", lambda: _repeater(repeater)
            )
        finally:
            box.lab.stop()
            ended = box.lab.gone()
            logs = {
                name: service.output()[-1500:] for name, service in box.services.items()
            }
    report.not_run(
        "wifi-repeater: the access point itself",
        "needs WiFi hardware, the host's NetworkManager over D-Bus and the "
        "upstream Node app the image builds; none is in this environment",
    )
    report.not_run(
        "influxdb: the real InfluxDB 2",
        "no InfluxDB binary here: the OpenAPI-faithful fake (fake_influxdb.py) "
        "answers, started by the stack's entrypoint from the same variables",
    )
    print(report.text())  # noqa: T201 - the report is the test's output
    assert ended, "processes of the lab outlived it"
    if report.failed:
        pytest.fail(
            "\n".join([report.text(), "", *(f"--- {n}\n{t}" for n, t in logs.items())])
        )


async def _repeater(repeater: Service) -> None:
    code = await asyncio.to_thread(repeater.process.wait, 30)
    assert code == 0, repeater.output()
    assert "wifi-repeater is off" in repeater.output()


async def run_parts(box: Box, report: Report, event_start: datetime) -> None:
    """Check each part as a LAN client (this thread is in ``device``)."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        owner = Owner(session)

        await report.part("every service listening on its own address", listening)

        async def mosquitto() -> None:
            # In this thread: its sockets are in ``device`` (a pool thread's
            # might not be).
            check_mosquitto()

        await report.part("mosquitto: anonymous refused, the user accepted", mosquitto)

        async def started() -> None:
            await until(
                "Home Assistant through the proxy", lambda: ha_up(session), STARTUP
            )

        if not await report.part(
            "homeassistant: first boot, up behind the proxy", started
        ):
            return
        await report.part(
            "proxy: Home Assistant's HTTP and websocket API",
            lambda: check_homeassistant(owner),
        )
        await report.part(
            "proxy: the configurator behind the login",
            lambda: check_configurator(session, box),
        )
        await report.part(
            "replication: its health in Home Assistant over MQTT",
            lambda: check_replication_health(owner),
        )
        await _influxdb_integration(report, owner)
        await report.part(
            "openadr: the VTN's event planned in",
            lambda: check_openadr(owner, box, session, event_start),
        )


async def _influxdb_integration(report: Report, owner: Owner) -> None:
    """Home Assistant's InfluxDB connection (the seeded config entry)."""
    name = "homeassistant: the InfluxDB config entry loaded"
    if importlib.util.find_spec("influxdb") is None:
        report.not_run(
            name,
            "Home Assistant's influxdb integration imports the `influxdb` (v1) "
            "client, which the image has and the test requirements do not",
        )
        return

    async def loaded() -> None:
        entries = await owner.api("GET", "/api/config/config_entries/entry")
        (entry,) = [e for e in entries if e["domain"] == "influxdb"]
        assert entry["state"] == "loaded", entry

    await report.part(name, loaded)


async def check_openadr(
    owner: Owner, box: Box, session: aiohttp.ClientSession, start: datetime
) -> None:
    """Add hems, restart with the OpenADR variables: the event is planned in."""
    entry_id = await add_hems(owner, box)

    async def found() -> dict[str, str] | None:
        ids = await entity_ids(owner, entry_id)
        return ids if {"planned_cost_total", "flex_events"} <= set(ids) else None

    ids = await until("hems' entities", found, 60)
    plan_id = ids["planned_cost_total"]
    before = await planned_price(owner, plan_id, start)
    # balena restarts the service when its variables change.
    homeassistant = box.services["homeassistant"]
    code = await asyncio.to_thread(homeassistant.stop, 60)
    assert code == 0, f"Home Assistant stopped with {code}"
    restarted = start_homeassistant(box, **OPENADR)
    await until("Home Assistant after the restart", lambda: ha_up(session), STARTUP)
    # The owner logs in again, as after any restart of the box.
    await until("the owner's login after the restart", owner.log_in, 60)
    await running(owner)
    log = restarted.output()
    assert "OpenADR VEN set for the VTN at vtn.aggregator.test" in log, log[-2000:]
    assert "flex policy auto_accept" in log

    async def answered() -> list[dict[str, Any]]:
        return [r for r in vtn_record(box) if r["what"] == "opted"]

    (answer,) = await until("the VEN's answer at the VTN", answered, 90)
    assert answer == {
        "what": "opted",
        "ven_id": "ven-home-17",
        "event_id": EVENT_ID,
        "opt": "optIn",
    }
    registered = [r for r in vtn_record(box) if r["what"] == "registered"]
    assert [r["ven_name"] for r in registered] == ["home-17"]

    async def accepted() -> dict[str, Any] | None:
        events = (await owner.state(ids["flex_events"]))["attributes"]["events"]
        return next((e for e in events if e["response"] == "accepted"), None)

    shown = await until("the accepted event on the events sensor", accepted, 60)
    assert shown["event"] == f"openadr:{EVENT_ID}"
    assert datetime.fromisoformat(shown["start"]) == start
    assert shown["asks"], shown

    async def switched_on() -> bool:
        switch = (await entity_ids(owner, entry_id))[f"flex_openadr:{EVENT_ID}"]
        return (await owner.state(switch))["state"] == "on"

    await until("the event's switch on", switched_on, 30)

    async def uplifted() -> bool:
        price = await planned_price(owner, plan_id, start)
        return abs(price - (before + LEVEL_UPLIFT_P)) < 1e-3

    await until(f"the plan's price at {start} raised by the event", uplifted, 60)
