"""The development Home Assistant and a headless Chromium, for the browser tests.

One Home Assistant per test session: a copy of ``config/`` seeded like
``scripts/develop`` does (demo prices, demo loads, the hems dashboard), on a free
port, with a user onboarded through Home Assistant's own API. Each test opens
the dashboard in a fresh browser context that already holds that user's tokens.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
import functools
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any
from urllib import error, parse, request

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    sync_playwright,
)
import pytest
import pytest_socket

from tests.conftest import REPO

ARTIFACTS = REPO / "artifacts"
CHROMIUM = Path(os.environ.get("HEMS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STARTUP_TIMEOUT = 180.0
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that selects the browser tests (``-m e2e``)."""
    config.addinivalue_line(
        "markers", "e2e: end-to-end tests in a real browser (tests/e2e)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HomeAssistant:
    """A running development Home Assistant and the onboarded user's tokens."""

    url: str
    tokens: dict[str, Any]
    config_dir: Path
    process: subprocess.Popen[bytes]

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the REST API as the user; return the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = request.Request(self.url + path, data=data, method=method)  # noqa: S310
        req.add_header("Authorization", f"Bearer {self.tokens['access_token']}")
        req.add_header("Content-Type", "application/json")
        with request.urlopen(req, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def fetch(self, path: str) -> tuple[int, str, bytes]:
        """GET a page or file as a browser would: status, content type, body."""
        with request.urlopen(self.url + path, timeout=30) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read()

    def state(self, entity_id: str) -> dict[str, Any]:
        """Return an entity's state object."""
        result: dict[str, Any] = self.api("GET", f"/api/states/{entity_id}")
        return result

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of Home Assistant's log (for failure messages)."""
        log = self.config_dir / "home-assistant.log"
        if not log.exists():
            return "(no log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _post(url: str, body: dict[str, Any], token: str | None = None) -> Any:
    """POST JSON, or a form for /auth/token; return the decoded answer."""
    if url.endswith("/auth/token"):
        data = parse.urlencode(body).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        data = json.dumps(body).encode()
        content_type = "application/json"
    req = request.Request(url, data=data, method="POST")  # noqa: S310
    req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with request.urlopen(req, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def _wait(
    what: str,
    check: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: Path,
) -> None:
    """Wait until ``check`` is true; fail with the log if HA dies or is slow."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Home Assistant exited ({process.returncode}) {what}")
        try:
            if check():
                return
        except OSError, error.URLError, ValueError:
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    pytest.fail(
        f"Home Assistant not ready after {STARTUP_TIMEOUT:.0f}s: {what}\n{tail}"
    )


def _get(url: str) -> Any:
    """GET without a token; return the decoded answer."""
    with request.urlopen(url, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def _onboard(url: str) -> dict[str, Any]:
    """Onboard the owner as the browser does; return the tokens.

    Like HA's onboarding page, it asks which steps are left and does only
    those, in order: the development config has the core config step done
    (see ``scripts/develop``), so it never adds HA's onboarding defaults.
    """
    client_id = f"{url}/"
    left = [step["step"] for step in _get(f"{url}/api/onboarding") if not step["done"]]
    assert left == ["user", "analytics", "integration"], left
    code = _post(
        f"{url}/api/onboarding/users",
        {
            "client_id": client_id,
            "name": "Test",
            "username": "test",
            "password": "test-password",
            "language": "en",
        },
    )["auth_code"]
    tokens: dict[str, Any] = _post(
        f"{url}/auth/token",
        {"grant_type": "authorization_code", "code": code, "client_id": client_id},
    )
    access = tokens["access_token"]
    _post(f"{url}/api/onboarding/analytics", {}, access)
    _post(
        f"{url}/api/onboarding/integration",
        {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"},
        access,
    )
    return tokens


def _http_settings(config_dir: Path, port: int) -> None:
    """Serve on 127.0.0.1:port, as confirmed settings.

    HTTP settings live in storage; ``http:`` in YAML would be a trial that asks
    for confirmation in the browser and reverts after five minutes.
    """
    settings = {
        "version": 2,
        "minor_version": 2,
        "key": "http",
        "data": {
            "stable": {
                "server_host": ["127.0.0.1"],
                "server_port": port,
                "cors_allowed_origins": [],
                "login_attempts_threshold": -1,
                "ip_ban_enabled": True,
                "ssl_profile": "modern",
                "use_x_frame_options": True,
                "created_at": "2026-01-01T00:00:00+00:00",
                "error": None,
                "error_message": None,
            },
            "pending": None,
            "yaml_migration_done": True,
        },
    }
    (config_dir / ".storage" / "http").write_text(json.dumps(settings))


def _plan_ready(ha: HomeAssistant) -> bool:
    """Return whether hems has planned every demo load over the known prices."""
    states = ha.api("GET", "/api/states")
    return any(
        len(state["attributes"].get("slots") or ()) > 0
        and len(state["attributes"].get("loads") or ()) >= 5
        for state in states
        if state["entity_id"].startswith("sensor.")
    )


@pytest.fixture(scope="session")
def home_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeAssistant]:
    """Start the development Home Assistant on a copy of config/; onboard a user."""
    pytest_socket.enable_socket()
    config_dir = tmp_path_factory.mktemp("ha") / "config"
    config_dir.mkdir()
    shutil.copy(REPO / "config" / "configuration.yaml", config_dir)
    shutil.copytree(REPO / "config" / "dashboards", config_dir / "dashboards")
    subprocess.run(  # noqa: S603 - the repository's own script
        ["/bin/bash", str(REPO / "scripts" / "develop"), "--seed", str(config_dir)],
        check=True,
    )
    port = _free_port()
    _http_settings(config_dir, port)
    hass_bin = Path(sys.executable).parent / "hass"
    output = (config_dir / "stdout.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [str(hass_bin), "--config", str(config_dir), "--skip-pip"],
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    log = config_dir / "home-assistant.log"
    ha = HomeAssistant(url=url, tokens={}, config_dir=config_dir, process=process)
    try:

        def onboarding_open() -> bool:
            with request.urlopen(f"{url}/api/onboarding", timeout=5) as answer:  # noqa: S310
                return bool(answer.status == 200)

        _wait("to serve onboarding", onboarding_open, process, log)
        ha.tokens = _onboard(url)
        _wait("to plan the demo loads", lambda: _plan_ready(ha), process, log)
        yield ha
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output.close()
        ARTIFACTS.mkdir(exist_ok=True)
        if log.exists():
            shutil.copy(log, ARTIFACTS / "e2e-home-assistant.log")


class _PlaywrightThread:
    """The one thread that drives the browser.

    Playwright's sync API runs an event loop in the thread that uses it, and
    Home Assistant's pytest plugin runs async fixtures around every test in the
    main thread: so the browser lives, and the browser tests run, in here.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="playwright")

    def run[T](self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function`` in the browser thread and return its result."""
        return self._executor.submit(function, *args, **kwargs).result()

    def close(self) -> None:
        """Stop the thread."""
        self._executor.shutdown()


_THREAD = _PlaywrightThread()


def in_browser_thread[**P, T](test: Callable[P, T]) -> Callable[P, T]:
    """Run a browser test (its body, with its fixtures) in the browser thread."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return _THREAD.run(test, *args, **kwargs)

    return run


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium headless (no browser download is possible)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: scripts/test installs Debian's chromium "
            "(or set HEMS_CHROMIUM)"
        )

    def launch() -> tuple[Playwright, Browser]:
        playwright = sync_playwright().start()
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        return playwright, launched

    playwright, launched = _THREAD.run(launch)
    yield launched
    _THREAD.run(launched.close)
    _THREAD.run(playwright.stop)


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Let the tests talk HTTP to the local Home Assistant (127.0.0.1 only)."""


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """Replace the HA plugin's check of in-process Home Assistants and threads.

    The browser tests run no Home Assistant in this process (it is a
    subprocess), and Playwright's loop starts worker threads as it needs them.
    """


@pytest.fixture
def open_dashboard(
    home_assistant: HomeAssistant, browser: Browser
) -> Iterator[Callable[..., Page]]:
    """Return a function opening the hems dashboard in a new logged-in context.

    Call it from a test marked ``@in_browser_thread``.
    """
    contexts: list[BrowserContext] = []

    def _open(
        viewport: dict[str, int] | None = None,
        color_scheme: str = "light",
        timezone_id: str | None = "Europe/London",
        clock_at: datetime | None = None,
        path: str = "/hems-plan/plan",
    ) -> Page:
        context = browser.new_context(
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            color_scheme=color_scheme,  # type: ignore[arg-type]
            timezone_id=timezone_id,
        )
        contexts.append(context)
        tokens = {
            **home_assistant.tokens,
            "hassUrl": home_assistant.url,
            "clientId": f"{home_assistant.url}/",
            "expires": int(time.time() * 1000)
            + home_assistant.tokens["expires_in"] * 1000,
        }
        context.add_init_script(
            f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))});"
        )
        page = context.new_page()
        if clock_at is not None:
            page.clock.install(time=clock_at)
        page.goto(home_assistant.url + path)
        page.wait_for_selector("hems-plan-card >> ha-card", timeout=60_000)
        return page

    yield _open
    for context in contexts:
        _THREAD.run(context.close)
