"""Accepted events as the import prices the planner sees."""

from datetime import UTC, datetime, timedelta

from custom_components.hems.flex import (
    Ask,
    Direction,
    FlexEvent,
    Source,
    adjust_prices,
    event_from_fields,
)

T0 = datetime(2026, 12, 1, 16, tzinfo=UTC)
HALF = timedelta(minutes=30)


def slots(prices: list[float | None]) -> list[tuple[datetime, datetime, float | None]]:
    return [(T0 + i * HALF, T0 + (i + 1) * HALF, p) for i, p in enumerate(prices)]


def test_turn_down_uplifts_only_the_window() -> None:
    event = event_from_fields(
        {
            "direction": "down",
            "start": (T0 + HALF).isoformat(),
            "end": (T0 + 3 * HALF).isoformat(),
            "reward_p_per_kwh": 100,
        },
        Source.SERVICE,
    )
    assert adjust_prices(slots([20, 30, 35, 15]), [event]) == [20, 130, 135, 15]


def test_free_electricity_is_zero_and_unknown_stays_unknown() -> None:
    event = event_from_fields(
        {
            "direction": "up",
            "start": T0.isoformat(),
            "end": (T0 + 3 * HALF).isoformat(),
            "free": True,
        },
        Source.SERVICE,
    )
    assert adjust_prices(slots([12.5, None, -3, 9]), [event]) == [0, None, 0, 9]


def test_a_slot_covered_in_part_gets_that_share() -> None:
    # 10 minutes of a 30-minute slot at 0 p and 20 of them at +60 p.
    start = T0 + timedelta(minutes=40)
    event = FlexEvent(
        id="x",
        source=Source.OPENADR,
        direction=Direction.DOWN,
        start=start,
        end=start + timedelta(minutes=30),
        asks=(
            Ask(start=start, end=start + timedelta(minutes=10), price=0.0),
            Ask(
                start=start + timedelta(minutes=10),
                end=start + timedelta(minutes=30),
                price_delta=60.0,
            ),
        ),
    )
    # slot 1 (16:30-17:00): 10 min at 0 instead of 30, 10 min +60.
    # slot 2 (17:00-17:30): 10 min +60.
    assert adjust_prices(slots([30, 30, 30]), [event]) == [30, 40, 50]


def test_no_events_keep_the_prices() -> None:
    assert adjust_prices(slots([1.5, None]), []) == [1.5, None]
