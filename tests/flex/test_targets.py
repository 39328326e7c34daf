"""Accepted events as the per-slot import caps and targets the planner sees."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.hems.flex import (
    Ask,
    Direction,
    FlexEvent,
    Source,
    event_from_fields,
    slot_targets,
)

T0 = datetime(2026, 12, 1, 16, tzinfo=UTC)
HALF = timedelta(minutes=30)


def event(direction: str, start: datetime, end: datetime, **asked: float) -> FlexEvent:
    fields = {
        "direction": direction,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return event_from_fields({**fields, **asked}, Source.SERVICE)


def each_slot(events: list[FlexEvent], limit: float | None = None, count: int = 4):
    return [
        slot_targets(T0 + i * HALF, T0 + (i + 1) * HALF, events, limit)
        for i in range(count)
    ]


def test_a_turn_down_caps_only_its_window() -> None:
    down = event("down", T0 + HALF, T0 + 3 * HALF, max_import_kw=0.5)
    assert each_slot([down]) == [(None, None), (0.5, None), (0.5, None), (None, None)]


def test_a_turn_up_targets_only_its_window() -> None:
    up = event("up", T0, T0 + 2 * HALF, min_import_kw=3.0)
    assert each_slot([up]) == [(None, 3.0), (None, 3.0), (None, None), (None, None)]


def test_a_slot_covered_in_part_gets_the_share_that_keeps_the_energy() -> None:
    quarter = timedelta(minutes=15)
    down = event("down", T0 + quarter, T0 + 2 * HALF, max_import_kw=1.0)
    # Without a site limit the uncovered quarter may draw anything: no cap.
    assert each_slot([down], count=2) == [(None, None), (1.0, None)]
    # With a 9 kW limit: 1 kW for 15 min and 9 kW for 15 min average 5 kW.
    assert each_slot([down], limit=9.0, count=2) == [(5.0, None), (1.0, None)]
    up = event("up", T0 + quarter, T0 + 2 * HALF, min_import_kw=4.0)
    assert each_slot([up], count=2) == [(None, 2.0), (None, 4.0)]


def test_targets_of_two_asks_in_one_slot_add_and_caps_take_the_tightest() -> None:
    quarter = timedelta(minutes=15)
    asks = (
        Ask(start=T0, end=T0 + quarter, min_import_kw=2.0),
        Ask(start=T0 + quarter, end=T0 + HALF, min_import_kw=6.0),
    )
    up = FlexEvent(
        id="two",
        source=Source.SERVICE,
        direction=Direction.UP,
        start=T0,
        end=T0 + HALF,
        asks=asks,
    )
    assert slot_targets(T0, T0 + HALF, [up]) == (None, 4.0)
    downs = [
        event("down", T0, T0 + HALF, max_import_kw=2.0),
        event("down", T0, T0 + HALF, max_import_kw=0.0),
    ]
    assert slot_targets(T0, T0 + HALF, downs) == (0.0, None)


def test_a_target_never_exceeds_the_site_limit() -> None:
    up = event("up", T0, T0 + HALF, min_import_kw=20.0)
    assert slot_targets(T0, T0 + HALF, [up], 9.0) == (None, 9.0)
    assert slot_targets(T0, T0 + HALF, [up]) == (None, 20.0)


def test_a_reward_only_event_asks_no_cap_or_target() -> None:
    down = event("down", T0, T0 + HALF, reward_p_per_kwh=50)
    assert slot_targets(T0, T0 + HALF, [down]) == (None, None)


@pytest.mark.parametrize("limit", [None, 3.68])
def test_nothing_is_asked_outside_every_window(limit: float | None) -> None:
    down = event("down", T0 + 2 * HALF, T0 + 3 * HALF, max_import_kw=0.2)
    assert slot_targets(T0, T0 + HALF, [down], limit) == (None, None)
