"""Baseline, metered and delivered energy on a real household's imports.

The household is tests/household.py (NESO half-hourly shapes scaled to one
house); the event falls just after the clock change of 2020-10-25, so the
same local half-hours of the earlier days are an hour earlier in UTC.
"""

from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.flex import (
    Ask,
    Direction,
    FlexEvent,
    Reward,
    Source,
    delivery,
    event_from_fields,
    matching_days,
    slot_baselines,
)
from tests.household import household

LONDON = ZoneInfo("Europe/London")
HALF = timedelta(minutes=30)
USAGE = {row.start: row.grid_import for row in household()}
START = datetime(2020, 10, 28, 17, tzinfo=UTC)  # a Wednesday, GMT


def down(**extra: object) -> FlexEvent:
    return event_from_fields(
        {
            "direction": "down",
            "start": START.isoformat(),
            "end": (START + 2 * HALF).isoformat(),
        }
        | extra,
        Source.SERVICE,
    )


def test_matching_days_are_weekdays_for_a_weekday_and_weekends_for_a_weekend() -> None:
    wednesday = date(2020, 10, 28)
    days = matching_days(wednesday, 10)
    assert len(days) == 10
    assert days[0] == date(2020, 10, 27)
    assert days[-1] == date(2020, 10, 14)
    assert all(day.weekday() < 5 for day in days)
    assert matching_days(date(2020, 10, 25), 3) == [
        date(2020, 10, 24),
        date(2020, 10, 18),
        date(2020, 10, 17),
    ]


def test_the_baseline_is_the_mean_of_the_same_local_half_hours() -> None:
    event = down()
    baselines = slot_baselines(event, USAGE, LONDON)
    days = matching_days(date(2020, 10, 28), 10)
    # 17:00 local was 16:00 UTC on the days before the clock change (25 Oct).
    expected = [
        fmean(
            USAGE[
                datetime(day.year, day.month, day.day, 17, minute, tzinfo=UTC)
                - (timedelta(hours=1) if day < date(2020, 10, 25) else timedelta(0))
            ]
            for day in days
        )
        for minute in (0, 30)
    ]
    assert baselines == pytest.approx(expected)
    assert 0 < baselines[0] < 2


def test_delivered_is_baseline_minus_metered_for_a_turn_down() -> None:
    event = down(points_per_kwh=1800, max_import_kw=0.1)
    result = delivery(event, USAGE, LONDON)
    metered = USAGE[START] + USAGE[START + HALF]
    baseline = sum(slot_baselines(event, USAGE, LONDON))  # type: ignore[arg-type]
    assert result.complete
    assert result.metered_kwh == pytest.approx(metered, abs=1e-4)
    assert result.baseline_kwh == pytest.approx(baseline, abs=1e-4)
    assert result.delivered_kwh == pytest.approx(baseline - metered, abs=2e-4)
    paid = max(0.0, baseline - metered)
    assert result.points == pytest.approx(paid * 1800, abs=0.5)
    assert result.reward_p == pytest.approx(paid * 225, abs=0.05)
    # Asked: the window's baseline above 0.1 kW for its hour.
    assert result.asked_kwh == pytest.approx(max(0.0, baseline - 0.1), abs=1e-4)


def test_a_turn_up_delivers_what_it_used_above_the_baseline() -> None:
    event = FlexEvent(
        id="up",
        source=Source.OCTOPUS_FREE_ELECTRICITY,
        direction=Direction.UP,
        start=START,
        end=START + HALF,
        asks=(Ask(start=START, end=START + HALF, price=0.0, min_import_kw=3.0),),
        reward=Reward(pence_per_kwh=10.0),
    )
    (baseline,) = slot_baselines(event, USAGE, LONDON)
    assert baseline is not None
    usage = dict(USAGE) | {START: baseline + 1.25}
    result = delivery(event, usage, LONDON)
    assert result.delivered_kwh == pytest.approx(1.25, abs=1e-4)
    assert result.reward_p == pytest.approx(12.5, abs=0.01)
    assert result.points is None
    assert result.asked_kwh == pytest.approx(1.5 - baseline, abs=1e-4)


def test_a_partial_half_hour_counts_its_share_and_nothing_is_paid_for_less() -> None:
    start = START + timedelta(minutes=10)
    event = FlexEvent(
        id="p",
        source=Source.OPENADR,
        direction=Direction.DOWN,
        start=start,
        end=start + timedelta(minutes=20),
        asks=(Ask(start=start, end=start + timedelta(minutes=20), price_delta=5.0),),
        reward=Reward(pence_per_kwh=50.0),
    )
    (baseline,) = slot_baselines(event, USAGE, LONDON)
    assert baseline is not None
    usage = dict(USAGE) | {START: baseline * 2}
    result = delivery(event, usage, LONDON)
    assert result.metered_kwh == pytest.approx(baseline * 4 / 3, abs=1e-4)
    assert result.delivered_kwh == pytest.approx(-baseline * 2 / 3, abs=1e-4)
    assert result.reward_p == 0
    assert result.asked_kwh is None


def test_without_readings_nothing_is_made_up() -> None:
    event = down(reward_p_per_kwh=10)
    result = delivery(event, {}, LONDON)
    assert result.as_dict() == {
        "baseline_kwh": None,
        "metered_kwh": None,
        "delivered_kwh": None,
        "asked_kwh": None,
        "reward_p": None,
        "points": None,
        "complete": False,
    }
    # The window half metered: the known part is shown, not yet complete.
    first = {moment: kwh for moment, kwh in USAGE.items() if moment != START + HALF}
    partial = delivery(event, first, LONDON)
    assert not partial.complete
    assert partial.metered_kwh == pytest.approx(USAGE[START], abs=1e-4)
    (baseline, _) = slot_baselines(event, USAGE, LONDON)
    assert baseline is not None
    assert partial.delivered_kwh == pytest.approx(baseline - USAGE[START], abs=1e-4)
