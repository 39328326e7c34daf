"""Switching loads: HA entities (plugs, inverter selects) and relay HATs."""

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from homeassistant.const import (
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .actuators import (
    ActuatorError,
    GpioRelayConfig,
    I2cBoard,
    I2cRelayConfig,
    Relay,
    open_relay,
)
from .load_config import Actuator, ActuatorKind

ON = "on"
OFF = "off"


class ActuationError(Exception):
    """A load could not be switched; the message says why."""


class LoadActuator(Protocol):
    """Puts a load into a state: "on", "off" or a battery mode."""

    @property
    def description(self) -> str:
        """Say what switches the load."""

    async def async_apply(self, state: str, *, context: Context | None = None) -> None:
        """Apply the state (idempotent); service calls are made in ``context``."""

    async def async_close(self) -> None:
        """Release hardware."""


@dataclass(kw_only=True)
class NoActuator:
    """A load that is planned and shown but not switched by hems."""

    @property
    def description(self) -> str:
        """Say that nothing switches the load."""
        return "not switched"

    async def async_apply(self, state: str, *, context: Context | None = None) -> None:
        """Do nothing."""

    async def async_close(self) -> None:
        """Do nothing."""


@dataclass(kw_only=True)
class EntitySwitch:
    """A switch, input_boolean or light (e.g. a smart plug) already in HA."""

    hass: HomeAssistant
    entity_id: str

    @property
    def description(self) -> str:
        """Name the entity."""
        return self.entity_id

    async def async_apply(self, state: str, *, context: Context | None = None) -> None:
        """Turn the entity on or off unless it already is."""
        current = _available_state(self.hass, self.entity_id)
        if (current == STATE_ON) == (state == ON):
            return
        domain = self.entity_id.split(".", 1)[0]
        try:
            await self.hass.services.async_call(
                domain,
                SERVICE_TURN_ON if state == ON else SERVICE_TURN_OFF,
                {"entity_id": self.entity_id},
                blocking=True,
                context=context,
            )
        except HomeAssistantError as err:
            raise ActuationError(f"{self.entity_id}: {err}") from err

    async def async_close(self) -> None:
        """Nothing to release."""


@dataclass(kw_only=True)
class EntitySelect:
    """A battery inverter's mode as a select or input_select entity."""

    hass: HomeAssistant
    entity_id: str
    options: dict[str, str]  # battery mode -> option of the entity

    @property
    def description(self) -> str:
        """Name the entity."""
        return self.entity_id

    async def async_apply(self, state: str, *, context: Context | None = None) -> None:
        """Select the option mapped to the mode unless it is selected."""
        current = _available_state(self.hass, self.entity_id)
        option = self.options.get(state)
        if option is None:
            raise ActuationError(f"no option of {self.entity_id} is mapped to {state}")
        if current == option:
            return
        domain = self.entity_id.split(".", 1)[0]
        try:
            await self.hass.services.async_call(
                domain,
                "select_option",
                {"entity_id": self.entity_id, "option": option},
                blocking=True,
                context=context,
            )
        except HomeAssistantError as err:
            raise ActuationError(f"{self.entity_id}: {err}") from err

    async def async_close(self) -> None:
        """Nothing to release."""


@dataclass(kw_only=True)
class HatRelay:
    """A relay on a Raspberry Pi HAT, over GPIO or I2C (blocking calls)."""

    hass: HomeAssistant
    config: GpioRelayConfig | I2cRelayConfig
    _relay: Relay | None = field(default=None, init=False)

    @property
    def description(self) -> str:
        """Describe the pin or channel."""
        return self.config.describe()

    async def async_apply(self, state: str, *, context: Context | None = None) -> None:
        """Open the relay on first use, then set it."""
        try:
            if self._relay is None:
                self._relay = await self.hass.async_add_executor_job(
                    open_relay, self.config
                )
            await self.hass.async_add_executor_job(self._relay.set, state == ON)
        except ActuatorError as err:
            raise ActuationError(str(err)) from err
        except (ValueError, OSError, RuntimeError) as err:
            # A driver or library failing in a way it does not document must not
            # stop the other loads: it is this relay's fault, reported as such.
            raise ActuationError(f"{self.config.describe()}: {err}") from err

    async def async_close(self) -> None:
        """Switch off and release the device."""
        if self._relay is not None:
            relay, self._relay = self._relay, None
            with suppress(ActuatorError):
                await self.hass.async_add_executor_job(relay.close)


POWER_PREFIX = "power:"


def power_state(kw: float) -> str:
    """Return the state that asks a battery for ``kw`` (+ charging, - discharging)."""
    return f"{POWER_PREFIX}{kw:+.3f}"


@dataclass(kw_only=True)
class EntityNumber:
    """A battery inverter's power setpoint as a number or input_number entity.

    Writes are kept few, so the inverter's flash is not worn: a new setpoint
    is written only when it differs from the last one by more than ``step_kw``
    and ``min_interval_s`` have passed since the last write, except that a
    change of direction (charge, hold, discharge) is written at once.
    """

    hass: HomeAssistant
    entity_id: str
    unit: str = "W"
    charge_positive: bool = True
    min_interval_s: float = 300.0
    step_kw: float = 0.1
    _written_kw: float | None = field(default=None, init=False)
    _written_at: datetime | None = field(default=None, init=False)
    writes: int = field(default=0, init=False)

    @property
    def description(self) -> str:
        """Name the entity."""
        return self.entity_id

    async def async_apply(self, state: str, *, context: Context | None = None) -> None:
        """Write the setpoint (in the entity's unit and sign) when it is due."""
        if not state.startswith(POWER_PREFIX):
            raise ActuationError(f"{self.entity_id} takes a power, not {state!r}")
        _available_state(self.hass, self.entity_id)
        kw = float(state.removeprefix(POWER_PREFIX))
        now = dt_util.utcnow()
        if not self._due(kw, now):
            return
        value = kw if self.charge_positive else -kw
        if self.unit == "W":
            value *= 1000
        domain = self.entity_id.split(".", 1)[0]
        try:
            await self.hass.services.async_call(
                domain,
                "set_value",
                {"entity_id": self.entity_id, "value": round(value, 3)},
                blocking=True,
                context=context,
            )
        except HomeAssistantError as err:
            raise ActuationError(f"{self.entity_id}: {err}") from err
        self._written_kw, self._written_at = kw, now
        self.writes += 1

    def _due(self, kw: float, now: datetime) -> bool:
        last = self._written_kw
        if last is None or self._written_at is None:
            return True
        if abs(kw - last) <= self.step_kw:
            return False

        def direction(value: float) -> int:
            return 0 if abs(value) <= self.step_kw else (1 if value > 0 else -1)

        if direction(kw) != direction(last):
            return True
        return (now - self._written_at).total_seconds() >= self.min_interval_s

    async def async_close(self) -> None:
        """Nothing to release."""


def _available_state(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state; raise if it is missing or cannot be switched now.

    Home Assistant skips a service call to an unavailable entity without an
    error, so a plug that is offline must be caught here, not after the call.
    """
    current = hass.states.get(entity_id)
    if current is None:
        raise ActuationError(f"{entity_id} does not exist")
    if current.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        raise ActuationError(f"{entity_id} is {current.state}")
    return current.state


def build_actuator(hass: HomeAssistant, actuator: Actuator) -> LoadActuator:
    """Return the actuator for a load's settings (checked by ``parse_actuator``)."""
    match actuator.kind:
        case ActuatorKind.ENTITY:
            return EntitySwitch(hass=hass, entity_id=str(actuator.entity_id))
        case ActuatorKind.SELECT:
            return EntitySelect(
                hass=hass,
                entity_id=str(actuator.entity_id),
                options=dict(actuator.options or {}),
            )
        case ActuatorKind.GPIO:
            return HatRelay(
                hass=hass,
                config=GpioRelayConfig(
                    pin=int(actuator.pin or 0), active_high=actuator.active_high
                ),
            )
        case ActuatorKind.I2C:
            return HatRelay(
                hass=hass,
                config=I2cRelayConfig(
                    bus=int(actuator.bus or 0),
                    address=int(actuator.address or 0),
                    channel=int(actuator.channel or 0),
                    board=I2cBoard(actuator.board or I2cBoard.REGISTER_PER_CHANNEL),
                ),
            )
        case ActuatorKind.NUMBER:
            return EntityNumber(
                hass=hass,
                entity_id=str(actuator.entity_id),
                unit=actuator.unit,
                charge_positive=actuator.charge_positive,
                min_interval_s=actuator.min_interval_s,
                step_kw=actuator.step_kw,
            )
        case ActuatorKind.NONE:
            return NoActuator()
