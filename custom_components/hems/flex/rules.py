"""Admission rules: an event must lie ahead and clash with no other."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from .errors import FlexEventError
from .models import FlexEvent

MAX_AHEAD: Final = timedelta(days=14)


def check_admissible(
    event: FlexEvent, now: datetime, others: Iterable[FlexEvent]
) -> None:
    """Raise `FlexEventError` unless ``event`` may be taken in at ``now``.

    Its window must not have ended nor start more than 14 days ahead, and it
    may not overlap another live event (one of the same key is its earlier
    version and is replaced).
    """
    if event.end <= now:
        raise FlexEventError(
            "end", f"the window ended at {event.end.isoformat()}, in the past"
        )
    if event.start > now + MAX_AHEAD:
        raise FlexEventError("start", "more than 14 days ahead")
    for other in others:
        if other.key != event.key and other.overlaps(event):
            raise FlexEventError(
                "start",
                f"overlaps event {other.key} ({other.start.isoformat()} to "
                f"{other.end.isoformat()})",
            )
