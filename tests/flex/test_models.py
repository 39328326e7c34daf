"""The event model, flat fields (service, MQTT) and the admission rules."""

from datetime import UTC, datetime, timedelta, timezone
import re

import pytest

from custom_components.hems.flex import (
    Ask,
    Direction,
    FlexEvent,
    FlexEventError,
    Source,
    check_admissible,
    event_from_fields,
)

START = datetime(2026, 12, 1, 17, tzinfo=UTC)
END = START + timedelta(hours=1)


def fields(**extra: object) -> dict[str, object]:
    return {"start": START.isoformat(), "end": END.isoformat()} | extra


def test_turn_down_with_a_reward_is_an_uplift_and_a_cap() -> None:
    event = event_from_fields(
        fields(direction="down", max_import_kw=0.5, reward_p_per_kwh=30, id="e1"),
        Source.SERVICE,
    )
    assert event.key == "service:e1"
    assert event.direction is Direction.DOWN
    (ask,) = event.asks
    assert (ask.start, ask.end) == (START, END)
    assert ask.max_import_kw == 0.5
    assert ask.price_delta == 30
    assert ask.price is None
    assert event.reward is not None
    assert event.reward.value_p_per_kwh == 30


def test_points_are_valued_with_the_pence_per_point() -> None:
    event = event_from_fields(
        fields(direction="down", points_per_kwh=1600, pence_per_point=0.125),
        Source.MQTT,
    )
    assert event.asks[0].price_delta == 200
    assert event.id == "down-20261201T1700Z"


def test_free_turn_up_is_price_zero_and_a_reward_a_reduction() -> None:
    event = event_from_fields(
        fields(direction="up", free=True, min_import_kw=2, reward_p_per_kwh=5),
        Source.SERVICE,
    )
    (ask,) = event.asks
    assert ask.price == 0
    assert ask.price_delta == -5
    assert ask.min_import_kw == 2


def test_local_times_become_utc() -> None:
    plus_one = timezone(timedelta(hours=1))
    event = event_from_fields(
        {
            "start": START.astimezone(plus_one),
            "end": END.astimezone(plus_one),
            "direction": "up",
        },
        Source.SERVICE,
    )
    assert event.start == START
    assert event.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"direction": "sideways"}, "direction: 'sideways' is not 'down' or 'up'"),
        ({"direction": "down", "colour": 1}, "colour: unknown field"),
        ({"direction": "down", "free": True}, "free: only a turn-up"),
        ({"direction": "up", "free": "yes"}, "free: expected true or false"),
        ({"direction": "up", "max_import_kw": 1}, "asks[0].max_import_kw: a turn-up"),
        ({"direction": "down", "min_import_kw": 1}, "asks[0].min_import_kw"),
        ({"direction": "down", "max_import_kw": -1}, "max_import_kw: -1 is outside"),
        ({"direction": "down", "reward_p_per_kwh": "lots"}, "reward_p_per_kwh: 'lots'"),
        ({"direction": "down", "reward_p_per_kwh": 1e5}, "reward_p_per_kwh: 100000"),
        ({"direction": "down", "points_per_kwh": 1e6}, "points_per_kwh: worth more"),
        (
            {"direction": "down", "reward_p_per_kwh": float("nan")},
            "reward_p_per_kwh: nan is not finite",
        ),
        (
            {"direction": "down", "max_import_kw": True},
            "max_import_kw: expected a number, got bool",
        ),
        ({"direction": "down", "baseline_days": 0}, "baseline_days: 0 is outside"),
        (
            {"direction": "down", "baseline_days": 2.5},
            "baseline_days: expected a whole",
        ),
        ({"direction": "down", "title": 5}, "title: expected text"),
        ({"direction": "down", "id": ""}, "id: must be a non-empty string"),
        ({"direction": "down", "id": "x" * 121}, "id: longer than 120"),
        ({"direction": "down", "end": START.isoformat()}, "end: is not after start"),
        ({"direction": "down", "end": "soon"}, "end: 'soon' is not an ISO date-time"),
        ({"direction": "down", "end": 5}, "end: expected a date-time, got int"),
        ({"direction": "down", "start": "2026-12-01T17:00"}, "start: 2026-12-01T17:00"),
        (
            {"direction": "down", "end": (START + timedelta(hours=25)).isoformat()},
            "end: the window is longer than 24 hours",
        ),
        ({"end": None, "direction": "down"}, "end: is required"),
    ],
)
def test_bad_fields_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(FlexEventError, match=r"^" + re.escape(message)):
        event_from_fields(fields(**data), Source.SERVICE)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(FlexEventError, match=r"^event: expected an object, got list"):
        event_from_fields([], Source.MQTT)  # type: ignore[arg-type]


def test_the_model_refuses_unknown_sources_and_stray_asks() -> None:
    ask = Ask(start=START, end=END)
    with pytest.raises(FlexEventError, match=r"^source: unknown source 'fax'"):
        FlexEvent(
            id="a", source="fax", direction="down", start=START, end=END, asks=(ask,)
        )  # type: ignore[arg-type]
    with pytest.raises(FlexEventError, match=r"^asks: the event asks nothing"):
        FlexEvent(
            id="a",
            source=Source.SERVICE,
            direction=Direction.UP,
            start=START,
            end=END,
            asks=(),
        )
    late = Ask(start=START, end=END + timedelta(minutes=1))
    with pytest.raises(FlexEventError, match=r"^asks\[0\]: lies outside"):
        FlexEvent(
            id="a",
            source=Source.SERVICE,
            direction=Direction.UP,
            start=START,
            end=END,
            asks=(late,),
        )
    with pytest.raises(FlexEventError, match=r"^asks\[1\]: overlaps the one before"):
        FlexEvent(
            id="a",
            source=Source.SERVICE,
            direction=Direction.UP,
            start=START,
            end=END,
            asks=(ask, ask),
        )
    with pytest.raises(FlexEventError, match=r"^price_delta: is required"):
        Ask(start=START, end=END, price_delta=None)  # type: ignore[arg-type]


def test_round_trip_through_a_dict() -> None:
    event = event_from_fields(
        fields(direction="down", max_import_kw=1, points_per_kwh=800, title="t"),
        Source.SERVICE,
    )
    assert FlexEvent.from_dict(event.as_dict()) == event


def test_admission_refuses_the_past_the_far_future_and_overlaps() -> None:
    event = event_from_fields(fields(direction="down", id="a"), Source.SERVICE)
    check_admissible(event, START - timedelta(hours=1), [])
    check_admissible(event, END - timedelta(minutes=1), [event])  # its own update
    with pytest.raises(FlexEventError, match=r"^end: the window ended at"):
        check_admissible(event, END, [])
    with pytest.raises(FlexEventError, match=r"^start: more than 14 days ahead"):
        check_admissible(event, START - timedelta(days=15), [])
    other = event_from_fields(
        {
            "id": "b",
            "direction": "up",
            "start": (END - timedelta(minutes=30)).isoformat(),
            "end": (END + timedelta(hours=1)).isoformat(),
        },
        Source.MQTT,
    )
    with pytest.raises(FlexEventError, match=r"^start: overlaps event mqtt:b"):
        check_admissible(event, START, [other])
    after = event_from_fields(
        {
            "direction": "up",
            "start": END.isoformat(),
            "end": (END + timedelta(hours=1)).isoformat(),
        },
        Source.MQTT,
    )
    check_admissible(event, START, [after])  # touching is not overlapping
