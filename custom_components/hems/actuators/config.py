"""Settings of a relay and their validation."""

from dataclasses import dataclass
from enum import StrEnum

GPIO_PINS = range(28)
"""BCM GPIO numbers of the 40-pin header."""

I2C_BUSES = range(2**31)
"""Bus numbers: /dev/i2c-<n>."""

I2C_ADDRESSES = range(0x03, 0x78)
"""7-bit I2C addresses that are not reserved."""

I2C_CHANNELS = range(1, 9)
"""Channel numbers of an I2C relay board (one byte holds up to eight)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GpioRelayConfig:
    """A relay driven by one GPIO pin."""

    pin: int
    """BCM GPIO number (0..27), not the header pin number."""

    active_high: bool = True
    """True when a high level switches the relay on."""

    def describe(self) -> str:
        """Name the relay for messages and entities: "GPIO 26 (active high)"."""
        polarity = "active high" if self.active_high else "active low"
        return f"GPIO {self.pin} ({polarity})"


class I2cBoard(StrEnum):
    """How an I2C relay board maps channels to registers."""

    REGISTER_PER_CHANNEL = "register_per_channel"
    """Channel n is register n; 0xFF switches it on, 0x00 off (52Pi EP-0099)."""

    BITMASK = "bitmask"
    """Register 0x06 holds all channels, bit n-1 low = on (Seeed Relay Board)."""

    @property
    def default_address(self) -> int:
        """The board's factory I2C address."""
        return 0x10 if self is I2cBoard.REGISTER_PER_CHANNEL else 0x20


@dataclass(frozen=True, slots=True, kw_only=True)
class I2cRelayConfig:
    """One channel of a relay board on an I2C bus."""

    bus: int
    """Bus number: /dev/i2c-<bus> (1 on current Raspberry Pis)."""

    address: int
    """7-bit device address (0x03..0x77)."""

    channel: int
    """1-based channel (relay) number on the board (1..8)."""

    board: I2cBoard = I2cBoard.REGISTER_PER_CHANNEL
    """The board's register layout."""

    def describe(self) -> str:
        """Name the relay for messages and entities: "I2C bus 1, 0x10, channel 2"."""
        return f"I2C bus {self.bus}, 0x{self.address:02x}, channel {self.channel}"


def _check_int(
    name: str, value: object, allowed: range, what: str, *, hexadecimal: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        # ValueError, not TypeError: every bad setting is one kind of error.
        raise ValueError(f"{name} must be an integer, got {value!r}")  # noqa: TRY004
    if value not in allowed:
        shown = f"0x{value:02x}" if hexadecimal and value >= 0 else str(value)
        raise ValueError(f"{name} must be {what}, got {shown}")


def validate_config(config: GpioRelayConfig | I2cRelayConfig) -> None:
    """Check a relay's settings.

    Raises:
        ValueError: a setting is out of range or of the wrong type; the message
            starts with the field's name ("pin", "active_high", "bus",
            "address", "channel" or "board").
        TypeError: ``config`` is neither kind of relay configuration.

    """
    if isinstance(config, GpioRelayConfig):
        _check_int("pin", config.pin, GPIO_PINS, "a BCM GPIO number from 0 to 27")
        if not isinstance(config.active_high, bool):
            raise ValueError(  # noqa: TRY004 (see _check_int)
                f"active_high must be True or False, got {config.active_high!r}"
            )
        return
    if isinstance(config, I2cRelayConfig):
        _check_int("bus", config.bus, I2C_BUSES, "0 or more")
        _check_int(
            "address",
            config.address,
            I2C_ADDRESSES,
            "from 0x03 to 0x77",
            hexadecimal=True,
        )
        _check_int("channel", config.channel, I2C_CHANNELS, "from 1 to 8")
        try:
            I2cBoard(config.board)
        except ValueError:
            choices = ", ".join(board.value for board in I2cBoard)
            raise ValueError(
                f"board must be one of {choices}, got {config.board!r}"
            ) from None
        return
    raise TypeError(f"not a relay configuration: {config!r}")
