"""What the OpenADR VEN and its openleadr client share (no openleadr import)."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to one event as sent to the VTN."""

    event_id: str
    opt: str  # optIn / optOut
    modification: int


class VenHooks(Protocol):
    """What the client tells its VEN."""

    def sending(self, answer: Answer) -> None:
        """Note an answer about to be sent (the VTN is owed it)."""

    def answered(self, problem: str | None) -> None:
        """Note a request's outcome: None when the VTN's answer was readable."""

    def acknowledged(self, answers: list[Answer], code: int | None) -> None:
        """Note the VTN's OpenADR response code to answers (None: no answer)."""

    async def async_polled(self) -> None:
        """Run after each poll."""
