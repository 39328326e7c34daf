"""Octopus schemes: the 24 published free-electricity sessions, saving sessions."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
import json
from pathlib import Path

from custom_components.hems.flex import (
    Direction,
    Source,
    adjust_prices,
    free_electricity_sessions,
    saving_sessions,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures"


def test_the_published_free_electricity_sessions() -> None:
    data = json.loads((FIXTURE / "octopus_free_electricity_sessions.json").read_text())
    events, problems = free_electricity_sessions(data)
    assert problems == []
    # 24 sessions, one of them a test (code 9): left out.
    assert len(data["data"]) == 24
    assert len(events) == 23
    assert "9" not in {event.id for event in events}
    assert {event.source for event in events} == {Source.OCTOPUS_FREE_ELECTRICITY}
    assert {event.direction for event in events} == {Direction.UP}
    assert {event.hours for event in events} <= {1.0, 2.0, 3.0}
    first = events[0]
    assert first.start == datetime(2024, 8, 15, 12, tzinfo=UTC)
    assert first.code == "1"
    assert all(a.end <= b.start for a, b in pairwise(events))
    # The session makes its hour free, the half-hours around it keep their price.
    half = timedelta(minutes=30)
    slots = [
        (first.start + (i - 1) * half, first.start + i * half, 20.0) for i in range(4)
    ]
    assert adjust_prices(slots, [first]) == [20, 0, 0, 20]


def test_bad_free_electricity_items_are_left_out_and_said() -> None:
    events, problems = free_electricity_sessions(
        {
            "data": [
                {"start": "2025-01-01T12:00:00Z", "end": "2025-01-01T13:00:00Z"},
                5,
                {"start": "x"},
            ]
        }
    )
    assert [event.id for event in events] == ["20250101T1200Z"]
    assert problems == [
        "data[1].item: expected an object",
        "data[2].start: 'x' is not an ISO date-time",
    ]
    assert free_electricity_sessions({"data": "none"}) == (
        [],
        ["data: expected a list of sessions"],
    )


def test_saving_sessions_of_the_event_entity() -> None:
    # The attribute names of the schema in tests/fixtures/README.md; values made up.
    attributes = {
        "account_id": "A-123",
        "available_events": [
            {
                "id": 7,
                "code": "EVENT_7",
                "start": "2026-12-02T17:30:00+00:00",
                "end": "2026-12-02T18:30:00+00:00",
                "duration_in_minutes": 60,
                "octopoints_per_kwh": 1800,
                "target_regions": [],
            }
        ],
        "joined_events": [
            {
                "id": 6,
                "start": datetime(2026, 12, 1, 17, tzinfo=UTC),
                "end": datetime(2026, 12, 1, 18, tzinfo=UTC),
                "duration_in_minutes": 60,
                "rewarded_octopoints": None,
                "octopoints_per_kwh": None,
                "target_regions": [],
            },
            {"id": 5, "start": "bad", "end": "2026-11-30T18:00:00Z"},
        ],
    }
    events, problems = saving_sessions(attributes, pence_per_point=0.125)
    assert problems == ["joined_events[1].start: 'bad' is not an ISO date-time"]
    joined, available = events
    assert (joined.id, joined.joined, joined.reward, joined.code) == (
        "6",
        True,
        None,
        None,
    )
    assert joined.asks[0].price_delta == 0
    assert (available.id, available.joined, available.code) == ("7", False, "EVENT_7")
    assert available.direction is Direction.DOWN
    assert available.reward is not None
    assert available.reward.value_p_per_kwh == 225
    assert available.asks[0].price_delta == 225


def test_a_joined_session_keeps_the_rate_of_its_available_twin() -> None:
    session = {"id": 8, "start": "2026-12-03T17:00:00Z", "end": "2026-12-03T18:00:00Z"}
    events, _ = saving_sessions(
        {
            "available_events": [session | {"code": "C8", "octopoints_per_kwh": 800}],
            "joined_events": [session],
        }
    )
    (event,) = events
    assert event.joined
    assert event.reward is not None
    assert event.reward.points_per_kwh == 800
    assert saving_sessions({"available_events": "x"})[1] == [
        "available_events: expected a list, got str"
    ]
    assert saving_sessions({"joined_events": [{"start": "x"}, 3]})[1] == [
        "joined_events[0].id: is required",
        "joined_events[1].item: expected an object, got int",
    ]
