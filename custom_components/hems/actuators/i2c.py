"""Relays on an I2C relay board, through smbus2."""

from collections.abc import Callable
from dataclasses import dataclass, field
import importlib
import logging
import threading
import time
from typing import Protocol, cast

from .config import I2cBoard, I2cRelayConfig
from .exceptions import ActuatorError, ActuatorIOError, ActuatorUnavailableError

_LOGGER = logging.getLogger(__name__)

SMBUS_MODULE = "smbus2"
SMBUS_INSTALL_HINT = "smbus2 is not installed (pip install smbus2)"

ON_BYTE = 0xFF
"""Register-per-channel boards: the byte that switches a channel on."""

OFF_BYTE = 0x00
"""Register-per-channel boards: the byte that switches a channel off."""

BITMASK_REGISTER = 0x06
"""Bitmask boards: the register holding every channel, one bit each."""

RETRY_DELAY = 0.01
"""Seconds to wait before the one retry of a failed transfer."""


class SMBus(Protocol):
    """The part of ``smbus2.SMBus`` the driver uses."""

    def read_byte_data(self, i2c_addr: int, register: int, /) -> int:
        """Read one register of a device."""

    def write_byte_data(self, i2c_addr: int, register: int, value: int, /) -> None:
        """Write one register of a device."""

    def close(self) -> None:
        """Close the bus's device file."""


class SMBusModule(Protocol):
    """The part of the ``smbus2`` module the driver uses."""

    def SMBus(self, bus: int, /) -> SMBus:  # noqa: N802 (smbus2's name)
        """Open /dev/i2c-<bus>."""


def import_smbus() -> SMBusModule:
    """Import smbus2, turning a failure into ActuatorUnavailableError."""
    try:
        module = importlib.import_module(SMBUS_MODULE)
    except ImportError as err:
        raise ActuatorUnavailableError(SMBUS_INSTALL_HINT) from err
    return cast("SMBusModule", module)


def _open_smbus(smbus2: SMBusModule, bus: int) -> SMBus:
    path = f"/dev/i2c-{bus}"
    try:
        return smbus2.SMBus(bus)
    except FileNotFoundError as err:
        raise ActuatorUnavailableError(
            f"I2C bus {bus} ({path}) not found: enable I2C (dtparam=i2c_arm=on) "
            "or choose the bus the board is on"
        ) from err
    except PermissionError as err:
        raise ActuatorUnavailableError(
            f"I2C bus {bus} ({path}): permission denied (the user running Home "
            "Assistant needs read and write access to it, e.g. the i2c group)"
        ) from err
    except OSError as err:
        raise ActuatorUnavailableError(
            f"I2C bus {bus} ({path}) cannot be opened: {err}"
        ) from err


@dataclass(eq=False, kw_only=True)
class _SharedBus:
    """One open SMBus, shared by every relay on that bus."""

    number: int
    smbus: SMBus
    users: int = 0
    """Open relays on the bus."""
    channel_users: dict[tuple[int, int], int] = field(default_factory=dict)
    """Open relays per (address, channel)."""
    device_locks: dict[int, threading.Lock] = field(default_factory=dict)
    """Per address: serialises each read-modify-write of a board."""
    transfer_lock: threading.Lock = field(default_factory=threading.Lock)
    """Serialises transfers: smbus2 selects the device with a separate ioctl."""

    def read(self, address: int, register: int) -> int:
        with self.transfer_lock:
            return self.smbus.read_byte_data(address, register)

    def write(self, address: int, register: int, value: int) -> None:
        with self.transfer_lock:
            self.smbus.write_byte_data(address, register, value)


# Lock order: _buses_lock, then a device lock, then a transfer lock.
_buses: dict[int, _SharedBus] = {}
_buses_lock = threading.Lock()


def open_i2c_relay(config: I2cRelayConfig) -> I2cRelayDriver:
    """Open (or share) the bus and check that the board answers.

    Opening reads the channel's state once (retried once); it does not switch
    anything.

    Raises:
        ActuatorUnavailableError: smbus2 is missing, the bus cannot be opened,
            or no device answers at the address.

    """
    smbus2 = import_smbus()
    board = I2cBoard(config.board)
    with _buses_lock:
        shared = _buses.get(config.bus)
        if shared is None:
            smbus = _open_smbus(smbus2, config.bus)
            shared = _SharedBus(number=config.bus, smbus=smbus)
            _buses[config.bus] = shared
        shared.users += 1
        channel = (config.address, config.channel)
        shared.channel_users[channel] = shared.channel_users.get(channel, 0) + 1
        device_lock = shared.device_locks.setdefault(config.address, threading.Lock())
    relay = I2cRelayDriver(config, board, shared, device_lock)
    try:
        relay.get()
    except ActuatorIOError as err:
        relay._release(switch_off=False)  # noqa: SLF001 (its own module)
        raise ActuatorUnavailableError(
            f"{relay.description}: no device answers ({err.__cause__})"
        ) from err
    return relay


class I2cRelayDriver:
    """One channel of an I2C relay board; obtain one from :func:`open_i2c_relay`."""

    description: str

    def __init__(
        self,
        config: I2cRelayConfig,
        board: I2cBoard,
        shared: _SharedBus,
        device_lock: threading.Lock,
    ) -> None:
        """Wrap a channel of a bus already opened by :func:`open_i2c_relay`."""
        self.description = config.describe()
        self._address = config.address
        self._channel = config.channel
        self._board = board
        self._bit = 1 << (config.channel - 1)
        self._shared: _SharedBus | None = shared
        self._device_lock = device_lock

    def _bus(self) -> _SharedBus:
        if self._shared is None:
            raise ActuatorError(f"{self.description}: the relay is closed")
        return self._shared

    def _transfer[T](self, what: str, transfer: Callable[[], T]) -> T:
        """Run a transfer under the board's lock, retrying once on OSError."""
        with self._device_lock:
            try:
                return transfer()
            except OSError as err:
                _LOGGER.debug(
                    "%s: %s failed (%s), retrying", self.description, what, err
                )
            time.sleep(RETRY_DELAY)
            try:
                return transfer()
            except OSError as err:
                raise ActuatorIOError(
                    f"{self.description}: {what} failed: {err}"
                ) from err

    def set(self, on: bool) -> None:
        """Switch the channel on or off."""
        self._switch(self._bus(), on=on)

    def _switch(self, bus: _SharedBus, *, on: bool) -> None:
        if self._board is I2cBoard.REGISTER_PER_CHANNEL:
            value = ON_BYTE if on else OFF_BYTE
            self._transfer(
                "write", lambda: bus.write(self._address, self._channel, value)
            )
            return

        def read_modify_write() -> None:
            current = bus.read(self._address, BITMASK_REGISTER)
            # Active low: a cleared bit switches the relay on.
            updated = current & ~self._bit if on else current | self._bit
            bus.write(self._address, BITMASK_REGISTER, updated & 0xFF)

        self._transfer("read-modify-write", read_modify_write)

    def get(self) -> bool:
        """Whether the channel is on, read back from the board."""
        bus = self._bus()
        if self._board is I2cBoard.REGISTER_PER_CHANNEL:
            value = self._transfer(
                "read", lambda: bus.read(self._address, self._channel)
            )
            return value != OFF_BYTE
        value = self._transfer(
            "read", lambda: bus.read(self._address, BITMASK_REGISTER)
        )
        return not value & self._bit

    def close(self) -> None:
        """Release the channel and the bus.

        The last relay open on the channel switches it off (as a GPIO relay's
        pin is), and the last relay on the bus closes the SMBus. Idempotent,
        and never raises: failures are logged, since closing happens while
        unloading.
        """
        self._release(switch_off=True)

    def _release(self, *, switch_off: bool) -> None:
        with _buses_lock:
            shared, self._shared = self._shared, None
            if shared is None:
                return
            channel = (self._address, self._channel)
            shared.channel_users[channel] -= 1
            if not shared.channel_users[channel]:
                del shared.channel_users[channel]
                if switch_off:
                    try:
                        self._switch(shared, on=False)
                    except ActuatorIOError:
                        _LOGGER.warning(
                            "%s: could not switch off on close",
                            self.description,
                            exc_info=True,
                        )
            shared.users -= 1
            if shared.users:
                return
            del _buses[shared.number]
            try:
                shared.smbus.close()
            except OSError:
                _LOGGER.warning(
                    "I2C bus %s: could not close it", shared.number, exc_info=True
                )
