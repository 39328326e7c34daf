"""Registration of the card with Home Assistant's HTTP server and frontend.

The browser tests see it work in a real Home Assistant; these check the
details in-process (and count towards the integration's coverage).
"""

from hashlib import sha256
from types import SimpleNamespace
from typing import Any

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, UrlManager
from homeassistant.components.http.server import StaticPathConfig

from custom_components.hems import frontend


class FakeHttp:
    """Records the static paths registered."""

    def __init__(self) -> None:
        """Start with none."""
        self.paths: list[StaticPathConfig] = []

    async def async_register_static_paths(self, paths: list[StaticPathConfig]) -> None:
        """Record the paths."""
        self.paths.extend(paths)


class FakeHass:
    """The parts of Home Assistant the registration uses."""

    def __init__(self, *components: str, http: FakeHttp | None = None) -> None:
        """Have the given integrations loaded, and HTTP if given."""
        self.data: dict[Any, Any] = {}
        self.config = SimpleNamespace(components=set(components))
        self.http = http
        self.changes: list[tuple[str, str]] = []
        self.data[DATA_EXTRA_MODULE_URL] = UrlManager(
            lambda change, url: self.changes.append((change, url)), []
        )

    async def async_add_executor_job(self, function: Any, *args: Any) -> Any:
        """Run the job at once."""
        return function(*args)


async def test_card_served_and_loaded_with_a_versioned_url() -> None:
    http = FakeHttp()
    hass = FakeHass("http", "frontend", http=http)
    url = await frontend.async_register_card(hass)  # type: ignore[arg-type]
    card = frontend.FRONTEND_DIR / "hems-plan-card.js"
    digest = sha256(card.read_bytes()).hexdigest()[:12]
    assert url == f"/hems_static/hems-plan-card.js?v={digest}"
    assert hass.data[DATA_EXTRA_MODULE_URL].urls == frozenset({url})
    assert hass.changes == [("added", url)]
    [path] = http.paths
    assert path.url_path == "/hems_static"
    assert path.path == str(frontend.FRONTEND_DIR)
    assert path.cache_headers is False
    # A second set-up (e.g. a reload) registers nothing twice.
    assert await frontend.async_register_card(hass) == url  # type: ignore[arg-type]
    assert len(http.paths) == 1
    assert len(hass.changes) == 1


async def test_nothing_registered_without_the_frontend() -> None:
    http = FakeHttp()
    hass = FakeHass("http", http=http)
    assert await frontend.async_register_card(hass) is None  # type: ignore[arg-type]
    assert http.paths == []
    no_http = FakeHass("frontend")
    assert await frontend.async_register_card(no_http) is None  # type: ignore[arg-type]
    assert no_http.changes == []
