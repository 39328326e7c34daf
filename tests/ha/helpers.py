"""Helpers for reading hems entities in tests."""

from datetime import datetime

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from custom_components.hems.const import DOMAIN
from tests.conftest import agile_history


def entity_id(hass: HomeAssistant, platform: str, entry_id: str, key: str) -> str:
    """Return the entity id of a hems entity from its unique id."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry_id}_{key}"
    )
    assert found is not None, f"no {platform} entity {key}"
    return found


def state(hass: HomeAssistant, platform: str, entry_id: str, key: str) -> State:
    """Return the state of a hems entity."""
    found = hass.states.get(entity_id(hass, platform, entry_id, key))
    assert found is not None
    return found


def real_price(start: datetime) -> float:
    """Return the recorded Agile price of the slot starting at ``start``."""
    for slot_start, _, value in agile_history():
        if slot_start == start:
            return value
    raise KeyError(start)


def real_prices(start: datetime, end: datetime) -> list[float]:
    """Return the recorded Agile prices of the slots starting in [start, end)."""
    return [value for slot, _, value in agile_history() if start <= slot < end]
