"""The safe store loader, as any hems store uses it."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
import pytest

from custom_components.hems.const import DOMAIN
from custom_components.hems.storage import (
    StoreDataError,
    async_load_store,
    store_issue_id,
)

KEY = "hems.TEST.things"


def parse(raw: Any) -> tuple[list[int], list[str]]:
    """Keep the integers of a list; anything else in it is dropped."""
    if not isinstance(raw, list):
        raise StoreDataError(f"expected a list, got {type(raw).__name__}")
    kept = [item for item in raw if isinstance(item, int)]
    return kept, [f"{item!r} is not an integer" for item in raw if item not in kept]


def saved(data: Any, version: int = 1) -> dict[str, Any]:
    return {"version": version, "minor_version": 1, "key": KEY, "data": data}


async def test_empty_and_clean_stores_have_no_problem(
    hass: HomeAssistant, hass_storage: dict[str, Any], issue_registry: ir.IssueRegistry
) -> None:
    store: Store[Any] = Store(hass, 1, KEY)
    assert await async_load_store(hass, store, parse) == (None, None)

    hass_storage[KEY] = saved([1, 2])
    assert await async_load_store(hass, Store(hass, 1, KEY), parse) == ([1, 2], None)
    assert issue_registry.async_get_issue(DOMAIN, store_issue_id(store)) is None


async def test_dropped_parts_are_logged_and_raised_as_an_issue(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[KEY] = saved([1, *"abcdefg"])
    store: Store[Any] = Store(hass, 1, KEY)

    data, problem = await async_load_store(hass, store, parse)

    assert data == [1]
    assert problem == "7 part(s) dropped, the first: 'a' is not an integer"
    assert caplog.text.count("Ignoring part of stored") == 5
    assert "Ignoring 2 more parts" in caplog.text
    issue = issue_registry.async_get_issue(DOMAIN, f"storage_{KEY}")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {"store": KEY, "problem": problem}

    # A later clean load clears the issue.
    hass_storage[KEY] = saved([3])
    assert await async_load_store(hass, Store(hass, 1, KEY), parse) == ([3], None)
    assert issue_registry.async_get_issue(DOMAIN, f"storage_{KEY}") is None


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (saved({"not": "a list"}), "StoreDataError: expected a list, got dict"),
        (saved([1], version=3), "UnsupportedStorageVersionError"),
        (saved([1], version=0), "NotImplementedError"),
    ],
)
async def test_unusable_stores_give_nothing_but_never_raise(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    payload: dict[str, Any],
    problem: str,
) -> None:
    hass_storage[KEY] = payload
    store: Store[Any] = Store(hass, 1, KEY)

    data, message = await async_load_store(hass, store, parse)

    assert data is None
    assert message is not None
    assert problem in message
    assert issue_registry.async_get_issue(DOMAIN, f"storage_{KEY}") is not None
    # Saving replaces the file whatever version it had.
    await store.async_save([5])
    assert hass_storage[KEY]["version"] == 1
    assert await async_load_store(hass, Store(hass, 1, KEY), parse) == ([5], None)
