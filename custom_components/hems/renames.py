"""Follow entities renamed in the UI: a plug's new entity id keeps switching.

When the user changes an entity id that a load uses (its plug, relay select or
state-of-charge sensor, or the site's base-load sensor), the stored settings
are updated to the new id and the running plan follows it at once, without a
reload (so hems's own entities never go unavailable for it).
"""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import CONF_BASE_LOAD_ENTITY, LOGGER, SUBENTRY_LOAD

if TYPE_CHECKING:
    from . import HemsConfigEntry


def renamed_data(data: Mapping[str, Any], old: str, new: str) -> dict[str, Any] | None:
    """Return a load's settings with ``old`` replaced by ``new``, or None if unused."""
    changed = dict(data)
    actuator = data.get("actuator")
    if isinstance(actuator, Mapping) and actuator.get("entity_id") == old:
        changed["actuator"] = {**actuator, "entity_id": new}
    if data.get("soc_entity") == old:
        changed["soc_entity"] = new
    return changed if changed != dict(data) else None


@callback
def async_follow_renames(
    hass: HomeAssistant,
    entry: HemsConfigEntry,
    snapshot: Callable[[HemsConfigEntry], Any],
) -> Callable[[], None]:
    """Listen for entity id changes; return the function that stops listening."""

    async def _renamed(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        if data["action"] != "update" or "old_entity_id" not in data:
            return
        old, new = data["old_entity_id"], data["entity_id"]
        touched = False
        for subentry in entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_LOAD:
                continue
            if (changed := renamed_data(subentry.data, old, new)) is not None:
                hass.config_entries.async_update_subentry(entry, subentry, data=changed)
                touched = True
        if entry.options.get(CONF_BASE_LOAD_ENTITY) == old:
            hass.config_entries.async_update_entry(
                entry, options={**entry.options, CONF_BASE_LOAD_ENTITY: new}
            )
            touched = True
        if not touched:
            return
        LOGGER.info("%s was renamed to %s: hems follows it", old, new)
        # The settings changed only by the new id: no reload is needed.
        entry.runtime_data.snapshot = snapshot(entry)
        await entry.runtime_data.plan.async_rename_entity(old, new)

    return hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, _renamed)
