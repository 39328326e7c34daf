"""The real NGINX (Debian's) with the stack's proxy configuration and entrypoint.

Upstreams on loopback: a stub Home Assistant (HTTP and a websocket echo), a
stub InfluxDB that records what reaches it, and the real Hass-Configurator
started through the stack's entrypoint with the settings of its Dockerfile.
"""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
import re

import aiohttp
from aiohttp import web
import pytest

from .conftest import (
    LOOPBACK,
    STACK,
    clean_env,
    dockerfile_env,
    free_port,
    run,
    server,
    tool,
)

PROXY_USER = "operator"
PROXY_PASSWORD = "proxy-Pass-1234"  # noqa: S105


def basic(user: str, password: str) -> dict[str, str]:
    """Return the Authorization header of an HTTP Basic login."""
    return {"Authorization": aiohttp.encode_basic_auth(user, password)}


PROXY_LOGIN = basic(PROXY_USER, PROXY_PASSWORD)
INFLUX_LOGIN = basic("admin", "influx-admin-pw")
TIMEOUT = aiohttp.ClientTimeout(total=10)
HTTP_OK, NO_CONTENT, FOUND, UNAUTHORIZED = 200, 204, 302, 401


@dataclass
class Upstreams:
    """The loopback stand-ins for the stack's services."""

    homeassistant: int
    influxdb: int
    configurator: int
    config_dir: Path
    seen: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Proxy:
    """A running NGINX in front of the upstreams."""

    http: str
    influx: str
    upstreams: Upstreams
    log: Path


def render_conf(
    workdir: Path,
    http_port: int | None = None,
    influx_port: int | None = None,
    up: Upstreams | None = None,
) -> Path:
    """Write the stack's nginx.conf with test paths, and loopback ports if given."""
    conf = (STACK / "proxy" / "nginx.conf").read_text()
    replacements = {"pid /run/nginx.pid;": f"pid {workdir / 'nginx.pid'};"}
    if up is not None:
        loopback = {"homeassistant:8123": up.homeassistant}
        loopback |= {"configurator:3218": up.configurator, "influxdb:8086": up.influxdb}
        for name, port in loopback.items():
            replacements[f"server {name} resolve;"] = f"server {LOOPBACK}:{port};"
        replacements["listen 80 default_server;"] = (
            f"listen {LOOPBACK}:{http_port} default_server;"
        )
        replacements["listen 8086;"] = f"listen {LOOPBACK}:{influx_port};"
    for old, new in replacements.items():
        assert conf.count(old) == 1, f"nginx.conf no longer has {old!r}"
        conf = conf.replace(old, new)
    conf = conf.replace("/etc/nginx/hems/htpasswd", str(workdir / "htpasswd"))
    path = workdir / "nginx.conf"
    path.write_text(conf)
    return path


def proxy_env(workdir: Path, **variables: str) -> dict[str, str]:
    """Return the proxy entrypoint's environment for a test run."""
    return clean_env(
        HEMS_NGINX_HTPASSWD=str(workdir / "htpasswd"),
        # Debian's NGINX runs its workers as nobody:nogroup without `user`.
        HEMS_NGINX_GROUP="nogroup",
        **variables,
    )


def nginx_command(conf: Path, workdir: Path, *extra: str) -> list[str]:
    """Return the NGINX command line for ``conf`` (prefix: the work dir)."""
    return [tool("nginx"), "-c", str(conf), "-p", f"{workdir}/", "-e", "stderr", *extra]


async def _stub(name: str, seen: list[dict[str, str]]) -> web.Application:
    """Return an app that records each request's path and headers."""

    async def record(request: web.Request) -> web.StreamResponse:
        entry = {"service": name, "path": request.path_qs, **request.headers}
        seen.append(entry)
        if request.path == "/api/websocket":
            socket = web.WebSocketResponse()
            await socket.prepare(request)
            async for message in socket:
                await socket.send_str(f"echo: {message.data}")
            return socket
        if request.path == "/api/v2/signin":
            if request.headers.get("Authorization") == INFLUX_LOGIN["Authorization"]:
                return web.Response(status=NO_CONTENT)
            return web.json_response(
                {"code": "unauthorized", "message": "unauthorized access"},
                status=UNAUTHORIZED,
            )
        return web.json_response(entry)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    return app


@pytest.fixture
def configurator(socket_enabled: None, workdir: Path) -> Iterator[tuple[int, Path]]:
    """Run the real Hass-Configurator through the stack's entrypoint."""
    config_dir = workdir / "config"
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text("default_config:\n")
    port = free_port()
    env = dockerfile_env(STACK / "configurator" / "Dockerfile")
    env |= {
        "HC_LISTENIP": LOOPBACK,
        "HC_PORT": str(port),
        "HC_BASEPATH": str(config_dir),
    }
    entrypoint = str(STACK / "configurator" / "entrypoint.sh")
    log = workdir / "configurator.log"
    with server(
        [entrypoint, tool("hass-configurator")], port, log, env=clean_env(**env)
    ):
        yield port, config_dir


@pytest.fixture
async def upstreams(
    socket_enabled: None, configurator: tuple[int, Path]
) -> AsyncIterator[Upstreams]:
    """Start the stub Home Assistant and InfluxDB next to the configurator."""
    seen: list[dict[str, str]] = []
    runners = []
    ports = []
    for name in ("homeassistant", "influxdb"):
        runner = web.AppRunner(await _stub(name, seen))
        await runner.setup()
        site = web.TCPSite(runner, LOOPBACK, 0)
        await site.start()
        runners.append(runner)
        ports.append(runner.addresses[0][1])
    try:
        yield Upstreams(ports[0], ports[1], configurator[0], configurator[1], seen)
    finally:
        for runner in runners:
            await runner.cleanup()


@pytest.fixture
def proxy(upstreams: Upstreams, workdir: Path) -> Iterator[Proxy]:
    """Run NGINX with the stack's configuration in front of the upstreams."""
    http_port, influx_port = free_port(), free_port()
    conf = render_conf(workdir, http_port, influx_port, upstreams)
    env = proxy_env(workdir, PROXY_USERNAME=PROXY_USER, PROXY_PASSWORD=PROXY_PASSWORD)
    entrypoint = str(STACK / "proxy" / "entrypoint.sh")
    command = [entrypoint, *nginx_command(conf, workdir, "-g", "daemon off;")]
    log = workdir / "nginx.log"
    with server(command, http_port, log, env=env):
        yield Proxy(
            f"http://{LOOPBACK}:{http_port}",
            f"http://{LOOPBACK}:{influx_port}",
            upstreams,
            log,
        )


def test_configuration_passes_nginx_t(workdir: Path) -> None:
    # The stack's own configuration, service names and ports as they are: the
    # upstreams are resolved at run time, so unknown names do not stop NGINX.
    conf = render_conf(workdir)
    (workdir / "htpasswd").write_text("")
    result = run(nginx_command(conf, workdir, "-t"))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    assert "test is successful" in result.stderr


def test_only_ports_80_and_8086_are_served() -> None:
    conf = (STACK / "proxy" / "nginx.conf").read_text()
    listens = re.findall(r"^\s*listen\s+([^;]+);", conf, flags=re.MULTILINE)
    assert listens == ["80 default_server", "8086"]


async def test_home_assistant_is_proxied_with_forwarding_headers(proxy: Proxy) -> None:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.get(f"{proxy.http}/lovelace/0?x=1") as response,
    ):
        assert response.status == HTTP_OK
        seen = await response.json()
    assert seen["service"] == "homeassistant"
    assert seen["path"] == "/lovelace/0?x=1"
    assert seen["X-Forwarded-For"] == LOOPBACK
    assert seen["X-Forwarded-Proto"] == "http"


async def test_home_assistant_api_token_reaches_home_assistant(proxy: Proxy) -> None:
    headers = {"Authorization": "Bearer ha-long-lived-token"}
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.get(f"{proxy.http}/api/states", headers=headers) as response,
    ):
        assert response.status == HTTP_OK
        seen = await response.json()
    assert seen["Authorization"] == "Bearer ha-long-lived-token"


async def test_websocket_upgrade_through_the_proxy(proxy: Proxy) -> None:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.ws_connect(f"{proxy.http}/api/websocket") as socket,
    ):
        for text in ("hello", "again"):
            await socket.send_str(text)
            reply = await socket.receive(timeout=5)
            assert reply.data == f"echo: {text}"
    upgrade = next(s for s in proxy.upstreams.seen if s["path"] == "/api/websocket")
    assert upgrade["Upgrade"].lower() == "websocket"
    assert upgrade["Connection"].lower() == "upgrade"


async def test_protected_paths_need_the_proxy_login(proxy: Proxy) -> None:
    logins = {
        "no login": {},
        "wrong password": basic(PROXY_USER, "wrong"),
        "wrong user": basic("x", PROXY_PASSWORD),
        "InfluxDB's login": INFLUX_LOGIN,
    }
    urls = [
        f"{proxy.http}/configurator/",
        f"{proxy.http}/configurator/api/listdir?path=/",
        f"{proxy.http}/influxdb/",
        f"{proxy.influx}/",
        f"{proxy.influx}/api/v2/orgs",
    ]
    refused = []
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        for url in urls:
            for name, login in logins.items():
                async with session.get(
                    url, headers=login, allow_redirects=False
                ) as response:
                    challenge = response.headers.get("WWW-Authenticate")
                    if (response.status, challenge) == (
                        UNAUTHORIZED,
                        'Basic realm="hems fleet box"',
                    ):
                        refused.append((url, name))
    assert len(refused) == len(urls) * len(logins)
    assert all(seen["service"] != "influxdb" for seen in proxy.upstreams.seen)


async def test_configurator_behind_the_login(proxy: Proxy) -> None:
    config_dir = proxy.upstreams.config_dir
    async with aiohttp.ClientSession(timeout=TIMEOUT, headers=PROXY_LOGIN) as session:
        async with session.get(f"{proxy.http}/configurator") as response:
            assert response.status == HTTP_OK
            assert str(response.url).endswith("/configurator/")
            page = await response.text()
        # The UI calls its API relative to the page, so it works under the prefix.
        assert 'encodeURI("api/listdir?path="' in page
        listing_url = f"{proxy.http}/configurator/api/listdir"
        async with session.get(
            listing_url, params={"path": str(config_dir)}
        ) as response:
            assert response.status == HTTP_OK
            listing = await response.text()
        assert "configuration.yaml" in listing
        # HC_ENFORCE_BASEPATH from the Dockerfile keeps it inside /config.
        async with session.get(listing_url, params={"path": "/etc"}) as response:
            assert "Access denied" in await response.text()


async def test_influxdb_ui_behind_the_login(proxy: Proxy) -> None:
    async with aiohttp.ClientSession(timeout=TIMEOUT, headers=PROXY_LOGIN) as session:
        async with session.get(
            f"{proxy.http}/influxdb/", allow_redirects=False
        ) as response:
            assert response.status == FOUND
            assert response.headers["Location"] == f"http://{LOOPBACK}:8086/"
        async with session.get(f"{proxy.influx}/orgs/1") as response:
            assert response.status == HTTP_OK
            seen = await response.json()
    assert seen["service"] == "influxdb"
    assert seen["path"] == "/orgs/1"
    # The proxy login stays at the proxy.
    assert "Authorization" not in seen


async def test_influxdb_sign_in_passes_its_own_credentials(proxy: Proxy) -> None:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        url = f"{proxy.influx}/api/v2/signin"
        async with session.post(url, headers=INFLUX_LOGIN) as response:
            assert response.status == NO_CONTENT
        async with session.post(url, headers=basic("admin", "x")) as response:
            assert response.status == UNAUTHORIZED
            assert (await response.json())["code"] == "unauthorized"
    signins = [s for s in proxy.upstreams.seen if s["path"] == "/api/v2/signin"]
    assert len(signins) == 2


def test_htpasswd_is_hashed_and_private(proxy: Proxy, workdir: Path) -> None:
    htpasswd = workdir / "htpasswd"
    user, hashed = htpasswd.read_text().strip().split(":", 1)
    assert user == PROXY_USER
    assert hashed.startswith("$apr1$")
    assert PROXY_PASSWORD not in htpasswd.read_text()
    assert htpasswd.stat().st_mode & 0o007 == 0
    assert PROXY_PASSWORD not in proxy.log.read_text()


async def test_without_password_protected_paths_refuse_everyone(
    upstreams: Upstreams, workdir: Path
) -> None:
    http_port, influx_port = free_port(), free_port()
    conf = render_conf(workdir, http_port, influx_port, upstreams)
    env = proxy_env(workdir, PROXY_USERNAME=PROXY_USER)
    entrypoint = str(STACK / "proxy" / "entrypoint.sh")
    command = [entrypoint, *nginx_command(conf, workdir, "-g", "daemon off;")]
    log = workdir / "nginx.log"
    with server(command, http_port, log, env=env):
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            for password in ("", "anything"):
                login = basic(PROXY_USER, password)
                url = f"http://{LOOPBACK}:{http_port}/configurator/"
                async with session.get(url, headers=login) as response:
                    assert response.status == UNAUTHORIZED
            async with session.get(f"http://{LOOPBACK}:{http_port}/") as response:
                assert response.status == HTTP_OK
    assert "PROXY_PASSWORD is not set" in log.read_text()
