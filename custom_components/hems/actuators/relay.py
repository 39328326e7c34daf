"""The relay interface and the one way to open a relay."""

from typing import Protocol, runtime_checkable

from .config import GpioRelayConfig, I2cRelayConfig, validate_config
from .gpio import open_gpio_relay
from .i2c import open_i2c_relay


@runtime_checkable
class Relay(Protocol):
    """An open relay. Its methods block; call them from an executor thread."""

    description: str
    """Names the relay in messages: "GPIO 26 (active high)"."""

    def set(self, on: bool) -> None:
        """Switch the relay on or off (raises ActuatorIOError)."""

    def get(self) -> bool | None:
        """Whether the relay is on; None when the hardware cannot report."""

    def close(self) -> None:
        """Release the hardware; idempotent, never raises."""


def open_relay(config: GpioRelayConfig | I2cRelayConfig) -> Relay:
    """Validate the settings, load the hardware library and open the relay.

    Opening the same settings twice is allowed: the relays share the pin or
    bus, which is released when the last of them is closed.

    Raises:
        ValueError: a setting is out of range (see :func:`validate_config`).
        ActuatorUnavailableError: the library is not installed, or the bus,
            pin or device cannot be used.
        ActuatorError: the pin is already open with the other polarity.

    """
    validate_config(config)
    if isinstance(config, GpioRelayConfig):
        return open_gpio_relay(config)
    return open_i2c_relay(config)
