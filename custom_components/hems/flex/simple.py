"""Events given as flat fields: the ``hems.flex_event`` service and MQTT JSON.

Fields: ``id`` (optional: made from the direction and start), ``start``,
``end`` (ISO date-times with a zone), ``direction`` (``down``/``up``),
``max_import_kw`` (turn-down target), ``min_import_kw`` (turn-up target),
``reward_p_per_kwh``, ``points_per_kwh``, ``pence_per_point``, ``free``
(turn-up: electricity costs nothing in the window), ``baseline_days``,
``title``.  Unknown fields are refused.
"""

from collections.abc import Mapping
from typing import Any, Final

from .errors import FlexEventError
from .models import (
    DEFAULT_BASELINE_DAYS,
    MAX_KW,
    OCTOPOINT_PENCE,
    Ask,
    Baseline,
    Direction,
    FlexEvent,
    Reward,
    Source,
    number,
    utc,
)

FIELDS: Final = frozenset(
    {
        "id",
        "start",
        "end",
        "direction",
        "max_import_kw",
        "min_import_kw",
        "reward_p_per_kwh",
        "points_per_kwh",
        "pence_per_point",
        "free",
        "baseline_days",
        "title",
    }
)


def event_from_fields(
    data: Mapping[str, Any],
    source: Source,
    *,
    pence_per_point: float = OCTOPOINT_PENCE,
) -> FlexEvent:
    """Return the event the flat fields describe (raises `FlexEventError`)."""
    if not isinstance(data, Mapping):
        raise FlexEventError("event", f"expected an object, got {type(data).__name__}")
    if unknown := sorted(str(key) for key in data if key not in FIELDS):
        raise FlexEventError(unknown[0], "unknown field")
    for name in ("start", "end", "direction"):
        if data.get(name) is None:
            raise FlexEventError(name, "is required")
    start = utc(data["start"], "start")
    end = utc(data["end"], "end")
    try:
        direction = Direction(data["direction"])
    except ValueError:
        raise FlexEventError(
            "direction", f"{data['direction']!r} is not 'down' or 'up'"
        ) from None
    free = _free(data, direction)
    reward = _reward(data, pence_per_point)
    delta = reward.value_p_per_kwh if reward else 0.0
    ask = Ask(
        start=start,
        end=end,
        max_import_kw=number(
            data.get("max_import_kw"), "max_import_kw", low=0.0, high=MAX_KW
        ),
        min_import_kw=number(
            data.get("min_import_kw"), "min_import_kw", low=0.0, high=MAX_KW
        ),
        price=0.0 if free else None,
        price_delta=delta if direction is Direction.DOWN else -delta,
    )
    event_id = data.get("id")
    if event_id is None:
        event_id = f"{direction}-{start:%Y%m%dT%H%MZ}"
    title = data.get("title", "")
    if not isinstance(title, str):
        raise FlexEventError("title", "expected text")
    days = data.get("baseline_days", DEFAULT_BASELINE_DAYS)
    if isinstance(days, float) and days.is_integer():
        days = int(days)
    return FlexEvent(
        id=event_id if isinstance(event_id, str) else str(event_id),
        source=source,
        direction=direction,
        start=start,
        end=end,
        asks=(ask,),
        reward=reward,
        baseline=Baseline(days=days),
        title=title,
    )


def _free(data: Mapping[str, Any], direction: Direction) -> bool:
    free = data.get("free", False)
    if not isinstance(free, bool):
        raise FlexEventError("free", "expected true or false")
    if free and direction is Direction.DOWN:
        raise FlexEventError("free", "only a turn-up makes electricity free")
    return free


def _reward(data: Mapping[str, Any], pence_per_point: float) -> Reward | None:
    pence = data.get("reward_p_per_kwh")
    points = data.get("points_per_kwh")
    if pence is None and points is None:
        return None
    point_value = data.get("pence_per_point", pence_per_point)
    return Reward(
        pence_per_kwh=number(pence, "reward_p_per_kwh", low=0.0, high=1e9),
        points_per_kwh=number(points, "points_per_kwh", low=0.0, high=1e9),
        pence_per_point=number(
            point_value, "pence_per_point", low=0.0, high=100.0, optional=False
        )
        or 0.0,
    )
