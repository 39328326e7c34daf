"""The events beside the plan (flex_plan.py): which, and their figures."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.hems.flex import Ask, FlexEvent, Reward
from custom_components.hems.flex_manager import FlexRecord, Response
from custom_components.hems.flex_plan import flex_events, target_kw

SLOT = timedelta(minutes=30)
NOW = datetime(2026, 12, 1, 15, 5, tzinfo=UTC)
STARTS = [NOW.replace(minute=0) + i * SLOT for i in range(8)]  # 15:00-19:00


def event(
    key: str, start: datetime, end: datetime, *asks: Ask, direction: str = "down"
) -> FlexEvent:
    return FlexEvent(
        id=key,
        source="service",
        direction=direction,
        start=start,
        end=end,
        asks=asks or (Ask(start=start, end=end, price_delta=10.0),),
        reward=Reward(points_per_kwh=80.0),
    )


def record(flex: FlexEvent, response: Response = Response.ACCEPTED) -> FlexRecord:
    return FlexRecord(event=flex, response=response, received=NOW)


def shown(*records: FlexRecord, **baselines: float) -> list[dict[str, object]]:
    return flex_events(
        records,
        now=NOW,
        slot_starts=STARTS,
        import_kwh=[0.5 * i for i in range(8)],
        base_kw=[0.4] * 8,
        loads_kw={"car": [0.0, 0.0, 7.0, 7.0, 0.0, 0.0, 0.0, 0.0], "idle": [0.0] * 8},
        baselines={f"service:{key}": value for key, value in baselines.items()},
    )


def test_only_events_by_the_plan_or_of_the_last_day() -> None:
    day = timedelta(days=1)
    items = shown(
        record(event("old", NOW - day - 2 * SLOT, NOW - day - SLOT)),
        record(event("yesterday", NOW - day + SLOT, NOW - day + 2 * SLOT)),
        record(event("later", STARTS[-1] + SLOT, STARTS[-1] + 2 * SLOT)),
        record(event("now", STARTS[1], STARTS[3]), Response.DECLINED),
    )
    assert [(i["id"], i["status"]) for i in items] == [
        ("yesterday", "accepted"),
        ("now", "declined"),
    ]
    # Before the plan: nothing planned in its window.
    assert items[0]["planned_import_kwh"] is None


def test_a_window_covering_half_of_a_slot_counts_half_of_it() -> None:
    start = STARTS[2] + SLOT / 2  # 16:15-17:15
    end = STARTS[4] + SLOT / 2
    ask = Ask(start=start, end=end, max_import_kw=1.5, price_delta=10.0)
    (item,) = shown(record(event("peak", start, end, ask)), peak=3.5)
    # import_kwh 1.0, 1.5, 2.0 in the slots from 16:00: half, all, half.
    assert item["planned_import_kwh"] == pytest.approx(0.5 + 1.5 + 1.0)
    assert item["base_kwh"] == pytest.approx(0.4 * 1.0)
    assert item["planned_kwh"] == {"car": pytest.approx(7 * 0.25 + 7 * 0.5)}
    assert (item["target_kw"], item["target_kwh"]) == (1.5, 1.5)
    assert item["asked_kwh"] == pytest.approx(3.5 - 1.5)
    assert item["reward_p_per_kwh"] == pytest.approx(80 * 0.125)
    assert item["points_per_kwh"] == 80.0
    assert (item["price"], item["price_delta"]) == (None, 10.0)
    assert "delivered_kwh" not in item


def test_asked_is_floored_and_needs_one_target_and_a_baseline() -> None:
    start, middle, end = STARTS[2], STARTS[3], STARTS[4]
    up = event(
        "up",
        start,
        end,
        Ask(start=start, end=end, min_import_kw=1.0, price=0.0),
        direction="up",
    )
    (item,) = shown(record(up), up=5.0)
    assert item["asked_kwh"] == 0.0  # 1 kW for an hour is below the 5 kWh baseline
    assert item["price"] == 0.0
    (item,) = shown(record(up))
    assert item["baseline_kwh"] is None
    assert item["asked_kwh"] is None
    two = event(
        "two",
        start,
        end,
        Ask(start=start, end=middle, max_import_kw=1.0),
        Ask(start=middle, end=end, max_import_kw=2.0),
    )
    assert target_kw(two) is None
    part = event("part", start, end, Ask(start=start, end=middle, max_import_kw=1.0))
    assert target_kw(part) is None  # asks nothing of the second half-hour
    (item,) = shown(record(event("reward", start, end)), reward=2.0)
    assert (item["target_kw"], item["asked_kwh"]) == (None, None)
