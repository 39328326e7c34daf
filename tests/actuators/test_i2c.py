"""I2C relay boards through a fake smbus2."""

import logging
import sys
import threading

import pytest

from custom_components.hems.actuators import (
    ActuatorError,
    ActuatorIOError,
    ActuatorUnavailableError,
    I2cBoard,
    I2cRelayConfig,
    Relay,
    i2c as i2c_driver,
    open_relay,
)

from .conftest import REMOTE_IO, FakeI2c

BITMASK = I2cBoard.BITMASK


def register_relay(channel: int, *, bus: int = 1, address: int = 0x10) -> Relay:
    return open_relay(I2cRelayConfig(bus=bus, address=address, channel=channel))


def bitmask_relay(channel: int, *, bus: int = 1, address: int = 0x20) -> Relay:
    return open_relay(
        I2cRelayConfig(bus=bus, address=address, channel=channel, board=BITMASK)
    )


# Register-per-channel boards (52Pi EP-0099).


def test_register_board_writes_ff_and_00_to_the_channel_register(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    relay = register_relay(2)
    assert isinstance(relay, Relay)
    assert relay.description == "I2C bus 1, 0x10, channel 2"
    assert board.reads == [2]  # opening probed the channel register
    assert board.writes == []  # and switched nothing
    assert relay.get() is False
    relay.set(True)
    assert board.writes == [(2, 0xFF)]
    assert relay.get() is True
    relay.set(False)
    assert board.writes == [(2, 0xFF), (2, 0x00)]
    assert relay.get() is False
    assert board.registers[1] == board.registers[3] == board.registers[4] == 0
    relay.close()


def test_register_board_reads_the_state_back(i2c: FakeI2c):
    board = i2c.add_device(1, 0x11, r4=0xFF)
    relay = register_relay(4, address=0x11)
    assert relay.get() is True
    board.registers[4] = 0x00  # switched by someone else
    assert relay.get() is False
    relay.close()


def test_register_board_channels_use_their_own_registers(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    relays = [register_relay(channel) for channel in (1, 2, 3, 4)]
    relays[0].set(True)
    relays[2].set(True)
    assert list(board.registers[1:5]) == [0xFF, 0x00, 0xFF, 0x00]
    assert [relay.get() for relay in relays] == [True, False, True, False]
    for relay in relays:
        relay.close()


# Bitmask boards (Seeed Raspberry Pi Relay Board v1.0): active low bits of 0x06.


def test_bitmask_board_clears_the_channel_bit_to_switch_on(i2c: FakeI2c):
    board = i2c.add_device(1, 0x20, r6=0xFF)  # all off
    relay = bitmask_relay(3)
    assert relay.description == "I2C bus 1, 0x20, channel 3"
    assert board.reads == [0x06]
    assert relay.get() is False
    relay.set(True)
    assert board.writes == [(0x06, 0b1111_1011)]
    assert relay.get() is True
    relay.set(False)
    assert board.writes == [(0x06, 0b1111_1011), (0x06, 0xFF)]
    assert relay.get() is False
    relay.close()


def test_bitmask_board_keeps_the_other_bits(i2c: FakeI2c):
    board = i2c.add_device(1, 0x20, r6=0b0101_0111)
    relay = bitmask_relay(1)
    assert relay.get() is False  # bit 0 set: off
    relay.set(True)
    assert board.registers[0x06] == 0b0101_0110
    relay.set(False)
    assert board.registers[0x06] == 0b0101_0111
    relay.close()
    channel8 = bitmask_relay(8)
    assert channel8.get() is True  # bit 7 clear: on
    channel8.set(False)
    assert board.registers[0x06] == 0b1101_0111
    channel8.close()


def test_bitmask_channels_do_not_clobber_each_other(i2c: FakeI2c):
    board = i2c.add_device(1, 0x20, r6=0xFF)
    one, two = bitmask_relay(1), bitmask_relay(2)
    one.set(True)
    two.set(True)
    one.set(False)
    assert [value for _, value in board.writes] == [0xFE, 0xFC, 0xFD]
    assert one.get() is False
    assert two.get() is True
    one.close()
    two.close()


def test_bitmask_channels_from_two_threads(i2c: FakeI2c):
    board = i2c.add_device(1, 0x20, r6=0xFF)
    board.delay = 0.0005  # a slow read: an unlocked read-modify-write would race
    other = i2c.add_device(1, 0x10)
    other.delay = 0.0005
    relays = [bitmask_relay(1), bitmask_relay(2), register_relay(1)]
    mismatches: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(relays))

    def toggle(relay: Relay) -> None:
        try:
            start.wait()
            for _ in range(40):
                for on in (True, False, True):
                    relay.set(on)
                    if relay.get() is not on:
                        mismatches.append(f"{relay.description} not {on}")
        except BaseException as err:  # noqa: BLE001 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=toggle, args=(relay,)) for relay in relays]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for relay in relays:
            relay.close()
    assert errors == []
    assert mismatches == []
    assert board.lost_updates == 0
    assert i2c.overlaps == 0  # one transfer at a time on the shared bus
    assert other.writes[-1] == (1, 0x00)
    assert board.writes[-2:] == [(0x06, 0xFD), (0x06, 0xFF)]  # closed: off
    assert len(board.writes) == 2 * 40 * 3 + 2


# Glitches and I/O errors.


def test_a_glitch_is_retried_once(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    relay = register_relay(1)
    board.glitches = 1
    relay.set(True)
    assert board.failed == 1
    assert board.writes == [(1, 0xFF)]
    board.glitches = 1
    assert relay.get() is True
    assert board.failed == 2
    relay.close()


def test_a_glitched_write_repeats_the_whole_read_modify_write(i2c: FakeI2c):
    board = i2c.add_device(1, 0x20, r6=0xFF)
    relay = bitmask_relay(2)
    board.reads.clear()
    board.write_glitches = 1
    relay.set(True)
    assert board.failed == 1
    assert board.reads == [0x06, 0x06]  # read again before the retried write
    assert board.writes == [(0x06, 0xFD)]
    relay.close()


def test_a_persistent_error_names_the_relay_and_the_os_error(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    relay = register_relay(2)
    board.glitches = 2
    with pytest.raises(ActuatorIOError) as caught:
        relay.set(True)
    assert str(caught.value) == (
        "I2C bus 1, 0x10, channel 2: write failed: [Errno 121] Remote I/O error"
    )
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.errno == REMOTE_IO
    assert board.failed == 2  # tried twice, not more
    assert board.writes == []

    board.glitches = 5
    with pytest.raises(
        ActuatorIOError,
        match=r"^I2C bus 1, 0x10, channel 2: read failed: \[Errno 121\]",
    ):
        relay.get()
    assert board.glitches == 3
    board.glitches = 0
    relay.close()


def test_a_persistent_error_during_read_modify_write(i2c: FakeI2c):
    board = i2c.add_device(1, 0x20, r6=0xFF)
    relay = bitmask_relay(4)
    board.write_glitches = 2
    with pytest.raises(
        ActuatorIOError,
        match=r"^I2C bus 1, 0x20, channel 4: read-modify-write failed: "
        r"\[Errno 121\] Remote I/O error$",
    ):
        relay.set(True)
    assert board.registers[0x06] == 0xFF
    relay.close()


def test_a_board_that_disappears_gives_io_errors(i2c: FakeI2c):
    i2c.add_device(1, 0x10)
    relay = register_relay(1)
    del i2c.buses[1][0x10]
    with pytest.raises(ActuatorIOError, match="I2C bus 1, 0x10, channel 1"):
        relay.set(True)
    relay.close()


# Opening: library, bus and device missing.


def test_missing_library_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "smbus2", None)
    with pytest.raises(ActuatorUnavailableError) as caught:
        register_relay(1)
    assert str(caught.value) == "smbus2 is not installed (pip install smbus2)"
    assert isinstance(caught.value.__cause__, ImportError)


def test_missing_bus_names_the_device_file(i2c: FakeI2c):
    with pytest.raises(ActuatorUnavailableError) as caught:
        register_relay(1, bus=0)
    assert str(caught.value).startswith("I2C bus 0 (/dev/i2c-0) not found")
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert i2c.opened == []


def test_bus_without_permission(i2c: FakeI2c):
    i2c.denied.add(1)
    with pytest.raises(
        ActuatorUnavailableError,
        match=r"^I2C bus 1 \(/dev/i2c-1\): permission denied",
    ):
        register_relay(1)


def test_bus_that_fails_to_open(i2c: FakeI2c):
    i2c.broken.add(1)
    with pytest.raises(
        ActuatorUnavailableError,
        match=r"^I2C bus 1 \(/dev/i2c-1\) cannot be opened: "
        r"\[Errno 19\] No such device",
    ):
        register_relay(1)


def test_absent_board_is_unavailable_and_releases_the_bus(i2c: FakeI2c):
    with pytest.raises(ActuatorUnavailableError) as caught:
        register_relay(3, address=0x11)
    assert str(caught.value) == (
        "I2C bus 1, 0x11, channel 3: no device answers ([Errno 121] Remote I/O error)"
    )
    assert isinstance(caught.value.__cause__, ActuatorIOError)
    assert len(i2c.opened) == 1
    assert i2c.opened[0].closed  # the bus opened for the probe was closed again


def test_absent_board_leaves_the_others_on_the_bus_alone(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    relay = register_relay(1)
    with pytest.raises(ActuatorUnavailableError):
        register_relay(1, address=0x12)
    assert not i2c.opened[0].closed
    relay.set(True)
    assert board.writes == [(1, 0xFF)]
    relay.close()


def test_a_glitch_while_probing_is_retried(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    board.glitches = 1
    relay = register_relay(1)
    assert board.failed == 1
    relay.close()


# Sharing and closing.


def test_relays_on_one_bus_share_one_smbus(i2c: FakeI2c):
    i2c.add_device(1, 0x10)
    i2c.add_device(1, 0x20, r6=0xFF)
    i2c.add_device(0, 0x10)
    relays = [register_relay(1), register_relay(2), bitmask_relay(1)]
    assert len(i2c.opened) == 1
    other_bus = register_relay(1, bus=0)
    assert [smbus.bus for smbus in i2c.opened] == [1, 0]
    shared = i2c.opened[0]
    for relay in relays[:-1]:
        relay.close()
        assert not shared.closed
    relays[-1].close()
    assert shared.closed
    assert not i2c.opened[1].closed
    other_bus.close()
    assert i2c.opened[1].closed
    # Opening again after the last close opens a fresh SMBus.
    relay = register_relay(1)
    assert len(i2c.opened) == 3
    assert not i2c.opened[2].closed
    relay.close()
    assert i2c.opened[2].closed


def test_close_switches_the_channel_off(i2c: FakeI2c):
    register_board = i2c.add_device(1, 0x10)
    bitmask_board = i2c.add_device(1, 0x20, r6=0xFF)
    register, bitmask, neighbour = register_relay(3), bitmask_relay(2), bitmask_relay(1)
    register.set(True)
    bitmask.set(True)
    neighbour.set(True)
    register.close()
    bitmask.close()
    assert register_board.writes[-1] == (3, 0x00)
    assert bitmask_board.registers[0x06] == 0xFE  # channel 1 left on
    assert neighbour.get() is True
    neighbour.close()
    assert bitmask_board.registers[0x06] == 0xFF


def test_same_channel_opened_twice_is_shared(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    first = register_relay(2)
    first.set(True)
    second = register_relay(2)
    assert second.get() is True
    assert len(i2c.opened) == 1
    first.close()
    assert board.writes == [(2, 0xFF)]  # not switched off: still in use
    second.set(False)
    second.set(True)
    second.close()
    assert board.writes[-1] == (2, 0x00)
    assert i2c.opened[0].closed


def test_close_is_idempotent_and_final(i2c: FakeI2c):
    board = i2c.add_device(1, 0x10)
    relay = register_relay(1)
    relay.close()
    relay.close()
    assert board.writes == [(1, 0x00)]
    with pytest.raises(
        ActuatorError, match=r"^I2C bus 1, 0x10, channel 1: the relay is closed$"
    ):
        relay.set(True)
    with pytest.raises(ActuatorError, match="the relay is closed"):
        relay.get()
    assert board.writes == [(1, 0x00)]


def test_close_logs_failures_and_never_raises(
    i2c: FakeI2c, caplog: pytest.LogCaptureFixture
):
    board = i2c.add_device(1, 0x10)
    relay = register_relay(1)
    board.glitches = 2
    i2c.close_error = OSError(5, "Input/output error")
    with caplog.at_level(logging.WARNING, logger=i2c_driver.__name__):
        relay.close()
    assert "I2C bus 1, 0x10, channel 1: could not switch off on close" in caplog.text
    assert "I2C bus 1: could not close it" in caplog.text
    assert i2c_driver._buses == {}  # released all the same
