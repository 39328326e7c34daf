"""Serve the plan card from the integration's folder and load it in the frontend.

The card is a plain ES module in ``frontend/``. It is served at ``URL_BASE`` and,
when Home Assistant's frontend is loaded, added to every page as an extra
module, so no dashboard resource has to be set up by hand. The module's URL
carries a hash of the file, so browsers load a new version after an update;
it is served without long cache headers, so a manually added resource
(``/hems_static/hems-plan-card.js``) is revalidated too.
"""

from hashlib import sha256
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER

URL_BASE = "/hems_static"
CARD_FILE = "hems-plan-card.js"
FRONTEND_DIR = Path(__file__).parent / "frontend"

_REGISTERED: HassKey[str] = HassKey(f"{DOMAIN}_card_url")


def card_url() -> str:
    """Return the card's URL, versioned by the hash of its file."""
    digest = sha256((FRONTEND_DIR / CARD_FILE).read_bytes()).hexdigest()[:12]
    return f"{URL_BASE}/{CARD_FILE}?v={digest}"


async def async_register_card(hass: HomeAssistant) -> str | None:
    """Serve the card and load it on every page; return its URL, if registered.

    Does nothing where Home Assistant runs without its frontend (and so
    without HTTP views to serve it), and only once per Home Assistant run.
    """
    if _REGISTERED in hass.data:
        return hass.data[_REGISTERED]
    if "frontend" not in hass.config.components or getattr(hass, "http", None) is None:
        LOGGER.debug("No frontend loaded: the plan card is not registered")
        return None
    # Imported here: the frontend's module is only needed when it is loaded.
    from homeassistant.components.frontend import add_extra_js_url  # noqa: PLC0415
    from homeassistant.components.http.server import (  # noqa: PLC0415
        StaticPathConfig,
    )

    url = await hass.async_add_executor_job(card_url)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(URL_BASE, str(FRONTEND_DIR), cache_headers=False)]
    )
    add_extra_js_url(hass, url)
    hass.data[_REGISTERED] = url
    LOGGER.debug("Plan card served at %s", url)
    return url
