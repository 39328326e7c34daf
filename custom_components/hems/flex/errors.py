"""Errors of the flexibility-event package."""


class FlexEventError(ValueError):
    """An event is malformed; the message is ``FIELD: reason``."""

    def __init__(self, field: str, reason: str) -> None:
        """Store the field (e.g. ``start``, ``event_signals[0]``) and the reason."""
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
