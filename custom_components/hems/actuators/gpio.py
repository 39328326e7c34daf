"""Relays driven by a GPIO pin through RPi.GPIO (or rpi-lgpio on a Pi 5)."""

from dataclasses import dataclass
import importlib
import logging
import threading
from typing import Protocol, cast

from .config import GpioRelayConfig
from .exceptions import ActuatorError, ActuatorIOError, ActuatorUnavailableError

_LOGGER = logging.getLogger(__name__)

GPIO_MODULE = "RPi.GPIO"
GPIO_INSTALL_HINT = (
    "RPi.GPIO is not installed (pip install RPi.GPIO; on a Raspberry Pi 5 "
    "pip install rpi-lgpio, which provides the same RPi.GPIO module)"
)


class GpioModule(Protocol):
    """The part of the ``RPi.GPIO`` module the driver uses."""

    BCM: int
    OUT: int
    HIGH: int
    LOW: int

    def setmode(self, mode: int, /) -> None:
        """Choose the pin numbering."""

    def setwarnings(self, flag: bool, /) -> None:
        """Enable or silence "channel already in use" warnings."""

    def setup(self, channel: int, direction: int, /, *, initial: int) -> None:
        """Make a pin an output at an initial level."""

    def output(self, channel: int, value: int, /) -> None:
        """Drive an output pin."""

    def input(self, channel: int, /) -> int:
        """Read a pin's level (an output pin reads back its driven level)."""

    def cleanup(self, channel: int, /) -> None:
        """Return a pin to an input."""


def import_gpio() -> GpioModule:
    """Import RPi.GPIO, turning any failure into ActuatorUnavailableError."""
    try:
        module = importlib.import_module(GPIO_MODULE)
    except ImportError as err:
        raise ActuatorUnavailableError(GPIO_INSTALL_HINT) from err
    except Exception as err:
        # RPi.GPIO and rpi-lgpio raise RuntimeError on import off a Raspberry Pi.
        raise ActuatorUnavailableError(f"RPi.GPIO cannot be loaded: {err}") from err
    return cast("GpioModule", module)


@dataclass(eq=False, kw_only=True)
class _OpenPin:
    """A pin set up as an output, shared by every relay opened on it."""

    gpio: GpioModule
    active_high: bool
    users: int = 1


# RPi.GPIO's state is per process, so the bookkeeping of pins is too.
_pins: dict[int, _OpenPin] = {}
_pins_lock = threading.Lock()


def _level(gpio: GpioModule, *, active_high: bool, on: bool) -> int:
    return gpio.HIGH if on == active_high else gpio.LOW


def open_gpio_relay(config: GpioRelayConfig) -> GpioRelayDriver:
    """Set the pin up as an output, off (or join the relays already on it).

    The pin is set up by the first relay opened on it and released by the last
    one closed, so opening the same pin again neither glitches it nor frees it
    under the other user.

    Raises:
        ActuatorUnavailableError: RPi.GPIO is missing or cannot drive the pin
            (not a Raspberry Pi, no /dev/gpiomem or /dev/gpiochip0 access,
            another numbering mode already chosen).
        ActuatorError: the pin is already open with the other polarity.

    """
    gpio = import_gpio()
    description = config.describe()
    with _pins_lock:
        pin = _pins.get(config.pin)
        if pin is None:
            off = _level(gpio, active_high=config.active_high, on=False)
            try:
                gpio.setmode(gpio.BCM)
                gpio.setwarnings(False)
                gpio.setup(config.pin, gpio.OUT, initial=off)
            except Exception as err:
                # RuntimeError/OSError from RPi.GPIO, lgpio.error from rpi-lgpio
                # (an Exception subclass), ValueError for a clash of modes.
                raise ActuatorUnavailableError(
                    f"{description}: cannot set the pin up as an output: {err}"
                ) from err
            pin = _OpenPin(gpio=gpio, active_high=config.active_high)
            _pins[config.pin] = pin
        elif pin.active_high != config.active_high:
            other = "active high" if pin.active_high else "active low"
            raise ActuatorError(f"{description}: GPIO {config.pin} is open as {other}")
        else:
            pin.users += 1
    return GpioRelayDriver(config, pin.gpio)


class GpioRelayDriver:
    """A relay on a GPIO pin; obtain one from :func:`open_gpio_relay`."""

    description: str

    def __init__(self, config: GpioRelayConfig, gpio: GpioModule) -> None:
        """Wrap a pin already set up by :func:`open_gpio_relay`."""
        self.description = config.describe()
        self._pin = config.pin
        self._active_high = config.active_high
        self._gpio = gpio
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise ActuatorError(f"{self.description}: the relay is closed")

    def set(self, on: bool) -> None:
        """Switch the relay on or off."""
        self._check_open()
        level = _level(self._gpio, active_high=self._active_high, on=on)
        try:
            self._gpio.output(self._pin, level)
        except Exception as err:
            state = "on" if on else "off"
            raise ActuatorIOError(
                f"{self.description}: cannot switch {state}: {err}"
            ) from err

    def get(self) -> bool:
        """Whether the relay is on, from the level the pin reads back."""
        self._check_open()
        try:
            level = self._gpio.input(self._pin)
        except Exception as err:
            raise ActuatorIOError(
                f"{self.description}: cannot read the pin: {err}"
            ) from err
        return bool(level) == self._active_high

    def close(self) -> None:
        """Release the pin; the last relay on it switches it off and frees it.

        Idempotent, and never raises: a failure to switch off or free the pin
        is logged, since closing happens while unloading.
        """
        with _pins_lock:
            if self._closed:
                return
            self._closed = True
            pin = _pins[self._pin]
            pin.users -= 1
            if pin.users:
                return
            del _pins[self._pin]
            off = _level(self._gpio, active_high=self._active_high, on=False)
            try:
                self._gpio.output(self._pin, off)
            except Exception:
                _LOGGER.warning(
                    "%s: could not switch off on close", self.description, exc_info=True
                )
            try:
                self._gpio.cleanup(self._pin)
            except Exception:
                _LOGGER.warning(
                    "%s: could not release the pin", self.description, exc_info=True
                )
