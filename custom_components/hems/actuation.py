"""Switching loads: HA entities (plugs, inverter selects) and relay HATs."""

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol

from homeassistant.const import SERVICE_TURN_OFF, SERVICE_TURN_ON, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

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

    async def async_apply(self, state: str) -> None:
        """Apply the state (idempotent)."""

    async def async_close(self) -> None:
        """Release hardware."""


@dataclass(kw_only=True)
class NoActuator:
    """A load that is planned and shown but not switched by hems."""

    @property
    def description(self) -> str:
        """Say that nothing switches the load."""
        return "not switched"

    async def async_apply(self, state: str) -> None:
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

    async def async_apply(self, state: str) -> None:
        """Turn the entity on or off unless it already is."""
        current = self.hass.states.get(self.entity_id)
        if current is None:
            raise ActuationError(f"{self.entity_id} does not exist")
        if (current.state == STATE_ON) == (state == ON):
            return
        domain = self.entity_id.split(".", 1)[0]
        try:
            await self.hass.services.async_call(
                domain,
                SERVICE_TURN_ON if state == ON else SERVICE_TURN_OFF,
                {"entity_id": self.entity_id},
                blocking=True,
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

    async def async_apply(self, state: str) -> None:
        """Select the option mapped to the mode unless it is selected."""
        current = self.hass.states.get(self.entity_id)
        if current is None:
            raise ActuationError(f"{self.entity_id} does not exist")
        option = self.options.get(state)
        if option is None:
            raise ActuationError(f"no option of {self.entity_id} is mapped to {state}")
        if current.state == option:
            return
        domain = self.entity_id.split(".", 1)[0]
        try:
            await self.hass.services.async_call(
                domain,
                "select_option",
                {"entity_id": self.entity_id, "option": option},
                blocking=True,
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

    async def async_apply(self, state: str) -> None:
        """Open the relay on first use, then set it."""
        try:
            if self._relay is None:
                self._relay = await self.hass.async_add_executor_job(
                    open_relay, self.config
                )
            await self.hass.async_add_executor_job(self._relay.set, state == ON)
        except ActuatorError as err:
            raise ActuationError(str(err)) from err

    async def async_close(self) -> None:
        """Switch off and release the device."""
        if self._relay is not None:
            relay, self._relay = self._relay, None
            with suppress(ActuatorError):
                await self.hass.async_add_executor_job(relay.close)


def build_actuator(hass: HomeAssistant, actuator: Actuator) -> LoadActuator:
    """Return the actuator for a load's settings."""
    match actuator.kind:
        case ActuatorKind.ENTITY if actuator.entity_id:
            return EntitySwitch(hass=hass, entity_id=actuator.entity_id)
        case ActuatorKind.SELECT if actuator.entity_id:
            return EntitySelect(
                hass=hass,
                entity_id=actuator.entity_id,
                options=dict(actuator.options or {}),
            )
        case ActuatorKind.GPIO if actuator.pin is not None:
            return HatRelay(
                hass=hass,
                config=GpioRelayConfig(
                    pin=actuator.pin, active_high=actuator.active_high
                ),
            )
        case ActuatorKind.I2C if None not in (
            actuator.bus,
            actuator.address,
            actuator.channel,
        ):
            return HatRelay(
                hass=hass,
                config=I2cRelayConfig(
                    bus=int(actuator.bus or 0),
                    address=int(actuator.address or 0),
                    channel=int(actuator.channel or 0),
                    board=I2cBoard(actuator.board or I2cBoard.REGISTER_PER_CHANNEL),
                ),
            )
        case _:
            return NoActuator()
