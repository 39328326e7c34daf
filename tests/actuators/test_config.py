"""Relay settings: descriptions, validation and the package's interface."""

import re
import sys

import pytest

from custom_components.hems import actuators
from custom_components.hems.actuators import (
    ActuatorError,
    ActuatorIOError,
    ActuatorUnavailableError,
    GpioRelayConfig,
    I2cBoard,
    I2cRelayConfig,
    open_relay,
    validate_config,
)


def test_describe_names_the_pin_or_channel():
    assert GpioRelayConfig(pin=26).describe() == "GPIO 26 (active high)"
    assert GpioRelayConfig(pin=5, active_high=False).describe() == "GPIO 5 (active low)"
    assert (
        I2cRelayConfig(bus=1, address=0x10, channel=2).describe()
        == "I2C bus 1, 0x10, channel 2"
    )
    assert (
        I2cRelayConfig(
            bus=0, address=0x2A, channel=8, board=I2cBoard.BITMASK
        ).describe()
        == "I2C bus 0, 0x2a, channel 8"
    )


def test_configs_are_frozen_keyword_only_values():
    config = I2cRelayConfig(bus=1, address=0x10, channel=1)
    assert config.board is I2cBoard.REGISTER_PER_CHANNEL
    assert config == I2cRelayConfig(bus=1, address=0x10, channel=1)
    assert GpioRelayConfig(pin=4).active_high is True
    with pytest.raises(AttributeError):
        config.channel = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        GpioRelayConfig(4)  # type: ignore[misc]


def test_boards_are_strings_with_their_factory_address():
    assert I2cBoard("bitmask") is I2cBoard.BITMASK
    assert I2cBoard.REGISTER_PER_CHANNEL == "register_per_channel"
    assert I2cBoard.REGISTER_PER_CHANNEL.default_address == 0x10
    assert I2cBoard.BITMASK.default_address == 0x20


def test_exception_hierarchy():
    assert issubclass(ActuatorUnavailableError, ActuatorError)
    assert issubclass(ActuatorIOError, ActuatorError)
    assert not issubclass(ActuatorIOError, ActuatorUnavailableError)
    assert issubclass(ActuatorError, Exception)


def test_package_exports_the_interface():
    assert set(actuators.__all__) >= {
        "ActuatorError",
        "ActuatorIOError",
        "ActuatorUnavailableError",
        "GpioRelayConfig",
        "I2cBoard",
        "I2cRelayConfig",
        "Relay",
        "open_relay",
        "validate_config",
    }
    for name in actuators.__all__:
        assert getattr(actuators, name) is not None


def test_importing_needs_no_hardware_library():
    assert "smbus2" not in sys.modules
    assert "RPi.GPIO" not in sys.modules


@pytest.mark.parametrize(
    "config",
    [
        GpioRelayConfig(pin=0),
        GpioRelayConfig(pin=27, active_high=False),
        I2cRelayConfig(bus=0, address=0x03, channel=1),
        I2cRelayConfig(bus=20, address=0x77, channel=8, board=I2cBoard.BITMASK),
        I2cRelayConfig(bus=1, address=0x20, channel=4, board="bitmask"),  # type: ignore[arg-type]
    ],
)
def test_valid_settings_pass(config: GpioRelayConfig | I2cRelayConfig):
    assert validate_config(config) is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (GpioRelayConfig(pin=28), "pin must be a BCM GPIO number from 0 to 27, got 28"),
        (GpioRelayConfig(pin=-1), "pin must be a BCM GPIO number from 0 to 27, got -1"),
        (GpioRelayConfig(pin=True), "pin must be an integer, got True"),
        (GpioRelayConfig(pin="26"), "pin must be an integer, got '26'"),  # type: ignore[arg-type]
        (
            GpioRelayConfig(pin=26, active_high=1),  # type: ignore[arg-type]
            "active_high must be True or False, got 1",
        ),
        (
            I2cRelayConfig(bus=-1, address=0x10, channel=1),
            "bus must be 0 or more, got -1",
        ),
        (
            I2cRelayConfig(bus=1.0, address=0x10, channel=1),  # type: ignore[arg-type]
            "bus must be an integer, got 1.0",
        ),
        (
            I2cRelayConfig(bus=1, address=0x78, channel=1),
            "address must be from 0x03 to 0x77, got 0x78",
        ),
        (
            I2cRelayConfig(bus=1, address=0x02, channel=1),
            "address must be from 0x03 to 0x77, got 0x02",
        ),
        (
            I2cRelayConfig(bus=1, address=-16, channel=1),
            "address must be from 0x03 to 0x77, got -16",
        ),
        (
            I2cRelayConfig(bus=1, address=0x10, channel=0),
            "channel must be from 1 to 8, got 0",
        ),
        (
            I2cRelayConfig(bus=1, address=0x10, channel=9),
            "channel must be from 1 to 8, got 9",
        ),
        (
            I2cRelayConfig(bus=1, address=0x10, channel=1, board="mcp23017"),  # type: ignore[arg-type]
            "board must be one of register_per_channel, bitmask, got 'mcp23017'",
        ),
    ],
)
def test_invalid_settings_name_the_field(
    config: GpioRelayConfig | I2cRelayConfig, message: str
):
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        validate_config(config)
    assert str(caught.value) == message


def test_other_objects_are_not_configs():
    with pytest.raises(TypeError, match="not a relay configuration: 26"):
        validate_config(26)  # type: ignore[arg-type]


def test_open_validates_before_touching_hardware(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "smbus2", None)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(ValueError, match="channel must be from 1 to 8, got 9"):
        open_relay(I2cRelayConfig(bus=1, address=0x10, channel=9))
    with pytest.raises(ValueError, match="pin must be a BCM GPIO number"):
        open_relay(GpioRelayConfig(pin=40))
