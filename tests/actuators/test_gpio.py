"""GPIO relays through a fake RPi.GPIO."""

import importlib
import logging
from pathlib import Path
import sys

import pytest

from custom_components.hems.actuators import (
    ActuatorError,
    ActuatorIOError,
    ActuatorUnavailableError,
    GpioRelayConfig,
    Relay,
    open_relay,
)

from .conftest import FakeGpio

HIGH, LOW = FakeGpio.HIGH, FakeGpio.LOW


def test_active_high_relay_switches_and_reads_back(gpio: FakeGpio):
    relay = open_relay(GpioRelayConfig(pin=26))
    try:
        assert isinstance(relay, Relay)
        assert relay.description == "GPIO 26 (active high)"
        assert gpio.mode == FakeGpio.BCM
        assert gpio.warnings is False
        assert gpio.history == [("setup", 26, LOW)]
        assert relay.get() is False
        relay.set(True)
        assert gpio.levels[26] == HIGH
        assert relay.get() is True
        relay.set(False)
        assert gpio.levels[26] == LOW
        assert relay.get() is False
    finally:
        relay.close()
    assert gpio.history[1:] == [
        ("output", 26, HIGH),
        ("output", 26, LOW),
        ("output", 26, LOW),  # switched off on close
    ]
    assert 26 not in gpio.levels  # an input again
    assert gpio.cleaned == [26]


def test_active_low_relay_inverts_the_levels(gpio: FakeGpio):
    relay = open_relay(GpioRelayConfig(pin=20, active_high=False))
    assert gpio.history == [("setup", 20, HIGH)]  # set up off
    assert relay.get() is False
    relay.set(True)
    assert gpio.levels[20] == LOW
    assert relay.get() is True
    relay.set(False)
    assert gpio.levels[20] == HIGH
    assert relay.get() is False
    relay.set(True)
    relay.close()
    assert gpio.history[-1] == ("output", 20, HIGH)  # off on close
    assert gpio.cleaned == [20]


def test_get_reads_the_pin_not_a_cache(gpio: FakeGpio):
    relay = open_relay(GpioRelayConfig(pin=21, active_high=False))
    relay.set(False)
    gpio.levels[21] = LOW  # something else drove the pin
    assert relay.get() is True
    relay.close()


def test_relays_on_different_pins_are_independent(gpio: FakeGpio):
    heater = open_relay(GpioRelayConfig(pin=5))
    charger = open_relay(GpioRelayConfig(pin=6, active_high=False))
    heater.set(True)
    charger.set(False)
    assert gpio.levels == {5: HIGH, 6: HIGH}
    heater.close()
    assert gpio.levels == {6: HIGH}
    assert charger.get() is False
    charger.close()
    assert gpio.cleaned == [5, 6]


def test_missing_library_names_both_packages(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(ActuatorUnavailableError) as caught:
        open_relay(GpioRelayConfig(pin=26))
    message = str(caught.value)
    assert message.startswith("RPi.GPIO is not installed (pip install RPi.GPIO")
    assert "rpi-lgpio" in message
    assert isinstance(caught.value.__cause__, ImportError)


def test_library_refusing_to_load_off_a_pi(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # The real RPi.GPIO raises RuntimeError while being imported off a Pi.
    package = tmp_path / "RPi"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "GPIO.py").write_text(
        "raise RuntimeError('This module can only be run on a Raspberry Pi!')\n"
    )
    monkeypatch.delitem(sys.modules, "RPi", raising=False)
    monkeypatch.delitem(sys.modules, "RPi.GPIO", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        with pytest.raises(
            ActuatorUnavailableError,
            match=r"^RPi\.GPIO cannot be loaded: This module can only be run on a "
            r"Raspberry Pi!$",
        ):
            open_relay(GpioRelayConfig(pin=26))
    finally:
        sys.modules.pop("RPi", None)
        sys.modules.pop("RPi.GPIO", None)


def test_not_a_pi_on_setup_is_unavailable(gpio: FakeGpio):
    gpio.not_a_pi = True
    with pytest.raises(
        ActuatorUnavailableError,
        match=r"^GPIO 26 \(active high\): cannot set the pin up as an output: "
        r"Not running on a RPi!$",
    ) as caught:
        open_relay(GpioRelayConfig(pin=26))
    assert isinstance(caught.value.__cause__, RuntimeError)
    # Nothing was kept open: once the cause is fixed the pin opens normally.
    gpio.not_a_pi = False
    relay = open_relay(GpioRelayConfig(pin=26))
    assert gpio.history == [("setup", 26, LOW)]
    relay.close()


def test_other_numbering_mode_is_unavailable(gpio: FakeGpio):
    gpio.mode = FakeGpio.BOARD  # someone else in the process chose BOARD
    with pytest.raises(
        ActuatorUnavailableError, match="A different mode has already been set!"
    ):
        open_relay(GpioRelayConfig(pin=26))
    assert gpio.levels == {}


def test_error_switching_is_an_io_error(gpio: FakeGpio):
    relay = open_relay(GpioRelayConfig(pin=26))
    gpio.output_error = OSError(5, "Input/output error")
    with pytest.raises(
        ActuatorIOError,
        match=r"^GPIO 26 \(active high\): cannot switch on: \[Errno 5\] "
        r"Input/output error$",
    ):
        relay.set(True)
    with pytest.raises(ActuatorIOError, match="cannot switch off"):
        relay.set(False)
    gpio.output_error = None
    relay.close()


def test_error_reading_is_an_io_error(gpio: FakeGpio):
    relay = open_relay(GpioRelayConfig(pin=26))
    gpio.input_error = RuntimeError("You must setup() the GPIO channel first")
    with pytest.raises(
        ActuatorIOError,
        match=r"^GPIO 26 \(active high\): cannot read the pin: You must setup",
    ):
        relay.get()
    relay.close()


def test_same_pin_opened_twice_is_shared(gpio: FakeGpio):
    config = GpioRelayConfig(pin=26)
    first = open_relay(config)
    first.set(True)
    second = open_relay(config)
    # The second open neither set the pin up again nor switched it off.
    assert gpio.history == [("setup", 26, LOW), ("output", 26, HIGH)]
    assert second.get() is True
    first.close()
    assert gpio.levels == {26: HIGH}  # still on, still an output
    assert gpio.cleaned == []
    second.set(False)
    second.close()
    assert gpio.cleaned == [26]


def test_same_pin_with_the_other_polarity_is_refused(gpio: FakeGpio):
    relay = open_relay(GpioRelayConfig(pin=26))
    with pytest.raises(
        ActuatorError,
        match=r"^GPIO 26 \(active low\): GPIO 26 is open as active high$",
    ) as caught:
        open_relay(GpioRelayConfig(pin=26, active_high=False))
    assert not isinstance(caught.value, ActuatorUnavailableError | ActuatorIOError)
    relay.set(True)
    assert relay.get() is True
    relay.close()
    assert gpio.cleaned == [26]


def test_close_is_idempotent_and_final(gpio: FakeGpio):
    relay = open_relay(GpioRelayConfig(pin=26))
    relay.close()
    relay.close()
    assert gpio.cleaned == [26]
    with pytest.raises(
        ActuatorError, match=r"GPIO 26 \(active high\): the relay is closed"
    ):
        relay.set(True)
    with pytest.raises(ActuatorError, match="the relay is closed"):
        relay.get()
    assert 26 not in gpio.levels


def test_close_logs_hardware_errors_and_still_releases(
    gpio: FakeGpio, caplog: pytest.LogCaptureFixture
):
    relay = open_relay(GpioRelayConfig(pin=26))
    relay.set(True)
    gpio.output_error = RuntimeError("lgpio: GPIO busy")
    with caplog.at_level(logging.WARNING):
        relay.close()
    assert gpio.cleaned == [26]  # freed even though switching off failed
    assert "GPIO 26 (active high): could not switch off on close" in caplog.text

    gpio.output_error = None
    caplog.clear()
    relay = open_relay(GpioRelayConfig(pin=26))
    gpio.cleanup_error = RuntimeError("lgpio: bad handle")
    with caplog.at_level(logging.WARNING):
        relay.close()
    assert gpio.history[-1] == ("output", 26, LOW)
    assert "GPIO 26 (active high): could not release the pin" in caplog.text
    # The bookkeeping is released all the same: the pin can be opened again.
    gpio.cleanup_error = None
    gpio.levels.pop(26)
    relay = open_relay(GpioRelayConfig(pin=26))
    assert gpio.history[-1] == ("setup", 26, LOW)
    relay.close()
