"""Octopus Energy schemes: Octoplus saving sessions and free electricity.

Saving sessions come from the attributes of the Octopus Energy integration's
``event.octopus_energy_{account}_octoplus_saving_session_events`` entity
(``available_events``: not joined yet, with the ``code`` to join with;
``joined_events``).  A session is a turn-down paid in Octopoints per kWh
below the baseline.  Free-electricity sessions (``{"data": [{start, end,
code, is_test?}]}``, as Octopus publishes them) are turn-ups at price 0;
test sessions are left out.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import FlexEventError
from .models import (
    OCTOPOINT_PENCE,
    Ask,
    Direction,
    FlexEvent,
    Reward,
    Source,
    number,
    utc,
)

type Parsed = tuple[list[FlexEvent], list[str]]
"""The events read and one ``FIELD: reason`` line per item left out."""


def _items(attributes: Mapping[str, Any], name: str) -> Sequence[Any]:
    items = attributes.get(name) or []
    if not isinstance(items, list | tuple):
        raise FlexEventError(name, f"expected a list, got {type(items).__name__}")
    return items


def saving_sessions(
    attributes: Mapping[str, Any], *, pence_per_point: float = OCTOPOINT_PENCE
) -> Parsed:
    """Return the saving sessions of the OE event entity's attributes.

    A session both available and joined (never in practice) counts as joined;
    a joined one without its points rate keeps the rate its available twin
    had, or none.
    """
    events: dict[str, FlexEvent] = {}
    problems: list[str] = []
    for joined, name in ((False, "available_events"), (True, "joined_events")):
        try:
            items = _items(attributes, name)
        except FlexEventError as err:
            problems.append(str(err))
            continue
        for index, item in enumerate(items):
            try:
                event = _session(item, joined=joined, pence_per_point=pence_per_point)
            except FlexEventError as err:
                problems.append(f"{name}[{index}].{err}")
                continue
            earlier = events.get(event.id)
            if earlier is not None and event.reward is None:
                event = FlexEvent.from_dict(
                    {**event.as_dict(), "reward": _reward_dict(earlier)}
                )
            events[event.id] = event
    return sorted(events.values(), key=lambda event: event.start), problems


def _reward_dict(event: FlexEvent) -> dict[str, Any] | None:
    return event.reward.as_dict() if event.reward else None


def _session(item: object, *, joined: bool, pence_per_point: float) -> FlexEvent:
    if not isinstance(item, Mapping):
        raise FlexEventError("item", f"expected an object, got {type(item).__name__}")
    if item.get("id") is None:
        raise FlexEventError("id", "is required")
    start = utc(item.get("start"), "start")
    end = utc(item.get("end"), "end")
    points = number(
        item.get("octopoints_per_kwh"), "octopoints_per_kwh", low=0, high=1e6
    )
    reward = (
        Reward(points_per_kwh=points, pence_per_point=pence_per_point)
        if points is not None
        else None
    )
    code = item.get("code")
    return FlexEvent(
        id=str(item["id"]),
        source=Source.OCTOPUS_SAVING_SESSION,
        direction=Direction.DOWN,
        start=start,
        end=end,
        asks=(
            Ask(
                start=start,
                end=end,
                price_delta=reward.value_p_per_kwh if reward else 0.0,
            ),
        ),
        reward=reward,
        title="Octoplus saving session",
        code=str(code) if code is not None else None,
        joined=joined,
    )


def free_electricity_sessions(data: object) -> Parsed:
    """Return the free-electricity sessions of Octopus's published JSON."""
    items = data.get("data") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        return [], ["data: expected a list of sessions"]
    events: list[FlexEvent] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            event = _free_session(item)
        except FlexEventError as err:
            problems.append(f"data[{index}].{err}")
            continue
        if event is not None:
            events.append(event)
    return sorted(events, key=lambda event: event.start), problems


def _free_session(item: object) -> FlexEvent | None:
    """Return the session's event (None: a test session)."""
    if not isinstance(item, Mapping):
        raise FlexEventError("item", "expected an object")
    if item.get("is_test"):
        return None
    start = utc(item.get("start"), "start")
    end = utc(item.get("end"), "end")
    code = item.get("code")
    return FlexEvent(
        id=str(code) if code is not None else f"{start:%Y%m%dT%H%MZ}",
        source=Source.OCTOPUS_FREE_ELECTRICITY,
        direction=Direction.UP,
        start=start,
        end=end,
        asks=(Ask(start=start, end=end, price=0.0),),
        title="Octopus free electricity",
        code=str(code) if code is not None else None,
        joined=True,
    )
