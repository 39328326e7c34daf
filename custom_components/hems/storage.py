"""Load a `Store` without ever refusing to start.

A store can be damaged (hand edits, a bug of an older release) or written by a
release newer or older than this one.  `async_load_store` reads it, lets the
caller's parser keep what can be trusted, logs what was dropped, and raises a
repair issue; it never raises.  The caller starts with what it got and writes
good data on its next `Store.async_save`, which replaces the file whatever its
version was.

Usage (the parser returns the trusted data and a message per dropped part,
or raises `StoreDataError`, `ValueError`, `TypeError` or `KeyError` when
nothing can be trusted)::

    def parse(raw: object) -> tuple[Plan, list[str]]:
        if not isinstance(raw, dict):
            raise StoreDataError(f"expected an object, got {type(raw).__name__}")
        ...

    data, problem = await async_load_store(hass, store, parse)
    # data is None when nothing is stored or nothing could be trusted;
    # problem is None when the store was empty or read in full.
"""

from collections.abc import Callable, Sequence
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER

type StoreParser[T] = Callable[[Any], tuple[T, Sequence[str]]]
"""Turn stored data into trusted data plus one message per part dropped."""

_LOGGED_DROPS: Final = 5


class StoreDataError(ValueError):
    """Stored data has a shape a parser cannot use at all."""


def store_issue_id(store: Store[Any]) -> str:
    """Return the id of the repair issue about `store` (e.g. for tests)."""
    return f"storage_{store.key}"


async def async_load_store[T](
    hass: HomeAssistant, store: Store[Any], parse: StoreParser[T]
) -> tuple[T | None, str | None]:
    """Load and parse `store`; return `(data or None, problem or None)`.

    Never raises.  An unknown version (newer: `UnsupportedStorageVersionError`;
    older without a migration: `NotImplementedError`), data of the wrong shape
    or a parser error gives `(None, problem)`; parts the parser dropped give
    `(data, problem)`.  A problem is logged and raised as the repair issue
    `store_issue_id(store)` (translation key ``storage_damaged``); a clean load
    clears that issue.  An unreadable JSON file is handled by Home Assistant
    itself (renamed, its own repair issue) and loads as empty.
    """
    data: T | None = None
    dropped: Sequence[str] = ()
    try:
        raw = await store.async_load()
        if raw is not None:
            data, dropped = parse(raw)
    except Exception as err:  # noqa: BLE001 - whatever is stored, start anyway
        problem = f"nothing could be used ({type(err).__name__}: {err})"
        LOGGER.warning("Stored %s ignored: %s", store.key, problem)
        LOGGER.debug("Loading %s failed", store.key, exc_info=True)
    else:
        if not dropped:
            ir.async_delete_issue(hass, DOMAIN, store_issue_id(store))
            return data, None
        problem = f"{len(dropped)} part(s) dropped, the first: {dropped[0]}"
        for message in dropped[:_LOGGED_DROPS]:
            LOGGER.warning("Ignoring part of stored %s: %s", store.key, message)
        if len(dropped) > _LOGGED_DROPS:
            LOGGER.warning(
                "Ignoring %d more parts of stored %s",
                len(dropped) - _LOGGED_DROPS,
                store.key,
            )
    ir.async_create_issue(
        hass,
        DOMAIN,
        store_issue_id(store),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="storage_damaged",
        translation_placeholders={"store": store.key, "problem": problem},
    )
    return data, problem
