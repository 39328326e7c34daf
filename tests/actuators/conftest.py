"""Fake RPi.GPIO and smbus2 modules, installed where Python imports them.

The fakes model the hardware behind the libraries (pins with modes and levels,
I2C buses with devices holding byte registers) and fail the way the real
libraries do, so the drivers are exercised through their real import and call
paths.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
import sys
import threading
import time
from types import ModuleType

import pytest

from custom_components.hems.actuators import gpio as gpio_driver, i2c as i2c_driver

REMOTE_IO = 121  # errno of an I2C transfer nobody acknowledged


def remote_io_error() -> OSError:
    """Return the error the kernel gives for an absent or glitching device."""
    return OSError(REMOTE_IO, "Remote I/O error")


class FakeGpio:
    """The process-wide pin state behind RPi.GPIO."""

    BOARD = 10
    BCM = 11
    OUT = 0
    IN = 1
    LOW = 0
    HIGH = 1

    def __init__(self) -> None:
        """Start with every pin an input and no numbering mode."""
        self.mode: int | None = None
        self.warnings = True
        self.levels: dict[int, int] = {}  # output pins and their driven level
        self.history: list[tuple[str, int, int]] = []  # (call, pin, level)
        self.cleaned: list[int] = []
        self.not_a_pi = False
        self.output_error: Exception | None = None
        self.input_error: Exception | None = None
        self.cleanup_error: Exception | None = None

    def setmode(self, mode: int) -> None:
        """Choose the numbering, once per process as RPi.GPIO insists."""
        if self.mode is not None and mode != self.mode:
            raise ValueError("A different mode has already been set!")
        self.mode = mode

    def setwarnings(self, flag: bool) -> None:
        """Record whether warnings are on."""
        self.warnings = flag

    def setup(self, channel: int, direction: int, *, initial: int) -> None:
        """Make a pin an output at its initial level."""
        if self.not_a_pi:
            raise RuntimeError("Not running on a RPi!")
        if self.mode is None:
            raise RuntimeError("Please set pin numbering mode using GPIO.setmode")
        assert direction == self.OUT
        self.levels[channel] = initial
        self.history.append(("setup", channel, initial))

    def output(self, channel: int, value: int) -> None:
        """Drive an output pin."""
        if self.output_error is not None:
            raise self.output_error
        if channel not in self.levels:
            raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
        self.levels[channel] = value
        self.history.append(("output", channel, value))

    def input(self, channel: int) -> int:
        """Read back an output pin's level."""
        if self.input_error is not None:
            raise self.input_error
        if channel not in self.levels:
            raise RuntimeError("You must setup() the GPIO channel first")
        return self.levels[channel]

    def cleanup(self, channel: int) -> None:
        """Return a pin to an input."""
        if self.cleanup_error is not None:
            raise self.cleanup_error
        del self.levels[channel]
        self.cleaned.append(channel)

    def module(self) -> ModuleType:
        """Return an ``RPi.GPIO`` module bound to this state."""
        module = ModuleType("RPi.GPIO")
        for name in ("BOARD", "BCM", "OUT", "IN", "LOW", "HIGH"):
            setattr(module, name, getattr(self, name))
        for name in ("setmode", "setwarnings", "setup", "output", "input", "cleanup"):
            setattr(module, name, getattr(self, name))
        return module


@dataclass(eq=False)
class FakeDevice:
    """A board on an I2C bus: 256 byte registers."""

    registers: bytearray = field(default_factory=lambda: bytearray(256))
    glitches: int = 0
    """The next this many transfers fail with Remote I/O error."""
    write_glitches: int = 0
    """The next this many writes fail with Remote I/O error."""
    delay: float = 0.0
    """Seconds a read takes (widens the window of a racy read-modify-write)."""
    reads: list[int] = field(default_factory=list)
    writes: list[tuple[int, int]] = field(default_factory=list)
    failed: int = 0
    lost_updates: int = 0
    """Writes of a register another thread wrote since this thread read it."""
    _version: int = 0
    _read_version: dict[int, int] = field(default_factory=dict)

    def transfer_starts(self, *, write: bool) -> None:
        """Fail the transfer if the device is told to glitch."""
        if self.glitches or (write and self.write_glitches):
            if self.glitches:
                self.glitches -= 1
            else:
                self.write_glitches -= 1
            self.failed += 1
            raise remote_io_error()

    def read(self, register: int) -> int:
        """Read a register, remembering what this thread saw."""
        self.transfer_starts(write=False)
        self._read_version[threading.get_ident()] = self._version
        time.sleep(self.delay)
        self.reads.append(register)
        return self.registers[register]

    def write(self, register: int, value: int) -> None:
        """Write a register, noting a write based on a stale read."""
        self.transfer_starts(write=True)
        seen = self._read_version.pop(threading.get_ident(), None)
        if seen is not None and seen != self._version:
            self.lost_updates += 1
        assert 0 <= value <= 0xFF
        self._version += 1
        self.registers[register] = value
        self.writes.append((register, value))


class FakeI2c:
    """The I2C buses of a machine and the devices on them."""

    def __init__(self) -> None:
        """Start with bus 1 present and empty."""
        self.buses: dict[int, dict[int, FakeDevice]] = {1: {}}
        self.denied: set[int] = set()
        self.broken: set[int] = set()
        self.opened: list[FakeSMBus] = []
        self.close_error: OSError | None = None
        self.overlaps = 0

    def add_device(self, bus: int, address: int, **registers: int) -> FakeDevice:
        """Put a board on a bus, with registers given as r<n>=value."""
        device = FakeDevice()
        for name, value in registers.items():
            device.registers[int(name.removeprefix("r"), 0)] = value
        self.buses.setdefault(bus, {})[address] = device
        return device

    def module(self) -> ModuleType:
        """Return an ``smbus2`` module opening this machine's buses."""
        module = ModuleType("smbus2")

        def smbus(bus: int) -> FakeSMBus:
            return FakeSMBus(self, bus)

        module.SMBus = smbus  # type: ignore[attr-defined]
        return module


class FakeSMBus:
    """An open /dev/i2c-N."""

    def __init__(self, machine: FakeI2c, bus: int) -> None:
        """Open the bus's device file as smbus2 does (os.open)."""
        path = f"/dev/i2c-{bus}"
        if bus not in machine.buses:
            raise FileNotFoundError(2, "No such file or directory", path)
        if bus in machine.denied:
            raise PermissionError(13, "Permission denied", path)
        if bus in machine.broken:
            raise OSError(19, "No such device", path)
        self.machine = machine
        self.bus = bus
        self.closed = False
        self._active = 0
        self._active_lock = threading.Lock()
        machine.opened.append(self)

    def _device(self, address: int) -> FakeDevice:
        if self.closed:
            raise OSError(9, "Bad file descriptor")
        device = self.machine.buses[self.bus].get(address)
        if device is None:
            raise remote_io_error()
        return device

    def _enter(self) -> None:
        with self._active_lock:
            self._active += 1
            if self._active > 1:
                self.machine.overlaps += 1

    def _leave(self) -> None:
        with self._active_lock:
            self._active -= 1

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        """Read a register of the device at an address."""
        self._enter()
        try:
            return self._device(i2c_addr).read(register)
        finally:
            self._leave()

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        """Write a register of the device at an address."""
        self._enter()
        try:
            self._device(i2c_addr).write(register, value)
        finally:
            self._leave()

    def close(self) -> None:
        """Close the device file."""
        if self.machine.close_error is not None:
            raise self.machine.close_error
        self.closed = True


@pytest.fixture(autouse=True)
def no_leaked_relays() -> Iterator[None]:
    """Fail a test that leaves a pin or bus open, and reset the bookkeeping."""
    yield
    pins, buses = dict(gpio_driver._pins), dict(i2c_driver._buses)
    gpio_driver._pins.clear()
    i2c_driver._buses.clear()
    assert not pins, f"pins left open: {sorted(pins)}"
    assert not buses, f"buses left open: {sorted(buses)}"


@pytest.fixture
def gpio(monkeypatch: pytest.MonkeyPatch) -> FakeGpio:
    """Install a fake RPi.GPIO (a package RPi with a module GPIO)."""
    fake = FakeGpio()
    module = fake.module()
    package = ModuleType("RPi")
    package.__path__ = []
    package.GPIO = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "RPi", package)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", module)
    return fake


@pytest.fixture
def i2c(monkeypatch: pytest.MonkeyPatch) -> FakeI2c:
    """Install a fake smbus2 over a machine with bus 1."""
    fake = FakeI2c()
    monkeypatch.setitem(sys.modules, "smbus2", fake.module())
    return fake
