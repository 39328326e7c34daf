"""Errors of the relay drivers.

Every failure of the hardware, its library or the operating system surfaces as
an :class:`ActuatorError`; bad settings are a :class:`ValueError` from
:func:`~.config.validate_config`.
"""


class ActuatorError(Exception):
    """A relay could not be opened, switched or read."""


class ActuatorUnavailableError(ActuatorError):
    """The hardware library is not installed, or the bus or device is missing.

    The message says what to install or which device was looked for.
    """


class ActuatorIOError(ActuatorError):
    """The operating system reported an error while talking to the device.

    The message names the relay (bus, address and channel, or the pin) and the
    operating-system error.
    """
