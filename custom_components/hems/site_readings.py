"""Live readings the plan starts from: battery state of charge, base load.

A reading is a number in a known unit or nothing: ``unavailable``, ``unknown``,
text, NaN and infinities are no reading, and a unit hems cannot convert is no
reading either (with the reason, so it can be logged once).
"""

from dataclasses import dataclass
import math

from homeassistant.const import PERCENTAGE, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter


@dataclass(frozen=True, slots=True)
class Reading:
    """A converted reading, or why there is none."""

    value: float | None
    problem: str | None = None


def _numeric(hass: HomeAssistant, entity_id: str) -> tuple[float, str | None] | str:
    """Return an entity's finite numeric state and unit, or why there is none."""
    state = hass.states.get(entity_id)
    if state is None:
        return f"{entity_id} does not exist"
    if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return f"{entity_id} is {state.state}"
    try:
        value = float(state.state)
    except ValueError:
        return f"{entity_id} reads {state.state!r}, not a number"
    if not math.isfinite(value):
        return f"{entity_id} reads {state.state!r}, not a finite number"
    return value, state.attributes.get("unit_of_measurement")


def state_of_charge_kwh(
    hass: HomeAssistant, entity_id: str, capacity_kwh: float
) -> Reading:
    """Return a battery's state of charge in kWh (from %, Wh, kWh, MWh...)."""
    found = _numeric(hass, entity_id)
    if isinstance(found, str):
        return Reading(None, found)
    value, unit = found
    if unit == PERCENTAGE:
        kwh = value / 100 * capacity_kwh
    elif unit in (None, ""):
        kwh = value  # no unit: kWh, as the settings say
    else:
        try:
            kwh = EnergyConverter.convert(value, unit, "kWh")
        except HomeAssistantError:
            return Reading(None, f"{entity_id} is in {unit}: use %, Wh or kWh")
    return Reading(min(max(kwh, 0.0), capacity_kwh))


def power_kw(hass: HomeAssistant, entity_id: str) -> Reading:
    """Return a power sensor's reading in kW (from W, kW, MW...), at least 0."""
    reading = signed_power_kw(hass, entity_id)
    if reading.value is None:
        return reading
    return Reading(max(reading.value, 0.0))


def signed_power_kw(hass: HomeAssistant, entity_id: str) -> Reading:
    """Return a power sensor's reading in kW, keeping its sign (grid meters)."""
    found = _numeric(hass, entity_id)
    if isinstance(found, str):
        return Reading(None, found)
    value, unit = found
    if unit in (None, ""):
        kw = value
    else:
        try:
            kw = PowerConverter.convert(value, unit, "kW")
        except HomeAssistantError:
            return Reading(None, f"{entity_id} is in {unit}: use W or kW")
    return Reading(kw)
