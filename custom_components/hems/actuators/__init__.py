"""Relay drivers of hems: switch a household load from a Raspberry Pi.

A pure library (no Home Assistant import). ``open_relay(config)`` returns a
:class:`Relay` whose blocking ``set``/``get``/``close`` are meant for an
executor thread; every hardware failure is an :class:`ActuatorError`
(:class:`ActuatorUnavailableError` when a library, bus or device is missing,
:class:`ActuatorIOError` when talking to the device fails). The hardware
libraries are imported only when a relay is opened, so neither is needed to
import this package.

Supported hardware
------------------
GPIO relay boards and modules (:class:`GpioRelayConfig`), through ``RPi.GPIO``
(``pip install RPi.GPIO``; on a Raspberry Pi 5 ``pip install rpi-lgpio``,
which provides the same module). Give the BCM GPIO number (``GPIO 26``), not
the header pin number (header pin 37). Relay HATs use fixed pins listed in
their documentation; a loose module's IN terminal goes to any free GPIO, its
VCC to 5 V and GND to ground. Many opto-isolated modules switch on at a low
level: set ``active_high=False`` for those. The pin is driven to the off level
when opened.

I2C relay boards (:class:`I2cRelayConfig`), through ``smbus2``
(``pip install smbus2``). The board sits on the header's I2C pins (SDA GPIO 2 =
pin 3, SCL GPIO 3 = pin 5, plus 3.3 V/5 V and ground); enable I2C with
``dtparam=i2c_arm=on`` in config.txt (or raspi-config). That is bus 1
(/dev/i2c-1) on every Pi since the Model B rev 2; the very first Model B used
bus 0, hence the bus setting. ``i2cdetect -y 1`` shows the address.

* ``I2cBoard.REGISTER_PER_CHANNEL``: e.g. 52Pi/GeeekPi EP-0099 "Docker Pi 4
  Channel Relay", default address 0x10 (DIP switches select 0x10 to 0x13).
  Channel n is register n; 0xFF switches it on, 0x00 off; the register reads
  back the state.
* ``I2cBoard.BITMASK``: e.g. Seeed "Raspberry Pi Relay Board v1.0", default
  address 0x20. Register 0x06 holds every channel, bit n-1 for channel n,
  active low (a cleared bit is on); channels are switched by read-modify-write
  under a lock per board, so relays of one board never clobber each other.

Opening an I2C relay reads its state once, so an absent board is reported at
once; a failed transfer is retried once before it raises. Relays on one bus
share a single SMBus.

Opening the same settings twice is allowed: the relays share the pin or
channel. Closing the last relay on a pin or channel switches it off (a GPIO
pin is then returned to an input; the last relay on a bus closes the SMBus).
"""

from .config import (
    GPIO_PINS,
    I2C_ADDRESSES,
    I2C_CHANNELS,
    GpioRelayConfig,
    I2cBoard,
    I2cRelayConfig,
    validate_config,
)
from .exceptions import ActuatorError, ActuatorIOError, ActuatorUnavailableError
from .relay import Relay, open_relay

__all__ = [
    "GPIO_PINS",
    "I2C_ADDRESSES",
    "I2C_CHANNELS",
    "ActuatorError",
    "ActuatorIOError",
    "ActuatorUnavailableError",
    "GpioRelayConfig",
    "I2cBoard",
    "I2cRelayConfig",
    "Relay",
    "open_relay",
    "validate_config",
]
