"""Errors raised by the planner."""


class ProblemError(ValueError):
    """A problem is malformed; the message names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        """Store the field path (e.g. ``loads[0].power_kw``) and the reason."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class InfeasibleError(ProblemError):
    """The loads' requirements cannot be met under the import limit."""
