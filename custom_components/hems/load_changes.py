"""Loads of a running entry: parsed from sub-entries, changed without a reload.

Adding, editing or deleting one load touches only that load: its entities are
added or removed, the others stay available, and the plan is made again. Only
a change of the price source (or the API key) reloads the whole entry.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from .const import (
    CONF_BASE_LOAD,
    CONF_BASE_LOAD_ENTITY,
    CONF_GAS_PRICE,
    CONF_IMPORT_LIMIT,
    DOMAIN,
    LOGGER,
    SUBENTRY_LOAD,
)
from .load_config import LoadConfig, parse_load
from .site_options import SECTION as SITE_INPUTS

if TYPE_CHECKING:
    from . import HemsConfigEntry

# Options the plan reads each time it is made: changing them re-plans.
PLAN_OPTIONS = (
    CONF_GAS_PRICE,
    CONF_IMPORT_LIMIT,
    CONF_BASE_LOAD,
    CONF_BASE_LOAD_ENTITY,
    SITE_INPUTS,
)

type LoadEntitiesAdder = Callable[[LoadConfig], None]


@dataclass(kw_only=True)
class LoadBook:
    """What the running entry was set up with, to tell what changed."""

    reload_key: Any
    plan_options: dict[str, Any]
    loads: dict[str, tuple[str, dict[str, Any]]]
    adders: list[LoadEntitiesAdder] = field(default_factory=list)
    with_entities: set[str] = field(default_factory=set)


def reload_key(entry: HemsConfigEntry) -> Any:
    """Return what a change of which needs a reload (the source, the API key)."""
    options = {k: v for k, v in entry.options.items() if k not in PLAN_OPTIONS}
    return (dict(entry.data), options)


def _load_subentries(entry: HemsConfigEntry) -> dict[str, ConfigSubentry]:
    return {
        subentry_id: subentry
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == SUBENTRY_LOAD
    }


def new_book(entry: HemsConfigEntry) -> LoadBook:
    """Return the record of the entry's settings as it is set up now."""
    return LoadBook(
        reload_key=reload_key(entry),
        plan_options={k: entry.options.get(k) for k in PLAN_OPTIONS},
        loads={
            subentry_id: (subentry.title, dict(subentry.data))
            for subentry_id, subentry in _load_subentries(entry).items()
        },
    )


def parse_subentry(
    hass: HomeAssistant, subentry_id: str, subentry: ConfigSubentry
) -> LoadConfig | None:
    """Return a load's settings; a broken one is a repair issue, not a crash."""
    issue_id = f"invalid_load_{subentry_id}"
    try:
        config = parse_load(subentry_id, subentry.data)
    except (TypeError, ValueError) as err:  # LoadConfigError names the field
        LOGGER.error("Load %s is not planned: %s", subentry.title, err)
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="invalid_load",
            translation_placeholders={"load": subentry.title, "error": str(err)},
        )
        return None
    ir.async_delete_issue(hass, DOMAIN, issue_id)
    return config


def load_configs(hass: HomeAssistant, entry: HemsConfigEntry) -> dict[str, LoadConfig]:
    """Parse every load sub-entry of the entry."""
    loads = {}
    for subentry_id, subentry in _load_subentries(entry).items():
        if (config := parse_subentry(hass, subentry_id, subentry)) is not None:
            loads[subentry_id] = config
    return loads


async def async_apply_changes(hass: HomeAssistant, entry: HemsConfigEntry) -> bool:
    """Bring the running loads in line with the sub-entries; True if any changed.

    Returns False without doing anything when the entry needs a reload.
    """
    runtime = entry.runtime_data
    book = runtime.book
    plan = runtime.plan
    current = {
        subentry_id: (subentry.title, dict(subentry.data))
        for subentry_id, subentry in _load_subentries(entry).items()
    }
    changed = False
    for subentry_id in book.loads.keys() - current.keys():
        LOGGER.info("Load %s removed", book.loads[subentry_id][0])
        ir.async_delete_issue(hass, DOMAIN, f"invalid_load_{subentry_id}")
        await plan.async_remove_load(subentry_id)
        book.with_entities.discard(subentry_id)
        changed = True
    subentries = _load_subentries(entry)
    for subentry_id, seen in current.items():
        if book.loads.get(subentry_id) == seen:
            continue
        changed = True
        config = parse_subentry(hass, subentry_id, subentries[subentry_id])
        if config is None:
            await plan.async_remove_load(subentry_id)
            continue
        await plan.async_put_load(config)
        if subentry_id not in book.with_entities:
            for add in book.adders:
                add(config)
            book.with_entities.add(subentry_id)
        _rename_device(hass, entry.entry_id, subentry_id, seen[0])
    book.loads = current
    options = {k: entry.options.get(k) for k in PLAN_OPTIONS}
    if options != book.plan_options:
        book.plan_options = options
        plan.refresh_site()
        changed = True
    return changed


def _rename_device(
    hass: HomeAssistant, entry_id: str, load_id: str, title: str
) -> None:
    """Give the load's device the sub-entry's title (the user's own name stays)."""
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier((DOMAIN, load_id), entry_id)
    if device is not None and device.name != title:
        registry.async_update_device(device.id, name=title)


def register_adder(entry: HemsConfigEntry, add: LoadEntitiesAdder) -> None:
    """Add a platform's entities for every load, now and when one is added."""
    book = entry.runtime_data.book
    book.adders.append(add)
    for load in entry.runtime_data.plan.loads.values():
        add(load)
        book.with_entities.add(load.id)
