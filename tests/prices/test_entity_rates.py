"""Rates attributes of the Octopus Energy integration's event entities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.prices import find_gaps, parse_rates_attribute

LONDON = ZoneInfo("Europe/London")
ENTITY = "event.octopus_energy_electricity_21l1234567_1200012345678_current_day_rates"
TARIFF = "E-1R-AGILE-24-10-01-C"


def day_of_rates(day: datetime, values: list[float]) -> list[dict[str, Any]]:
    """Rates as the integration's event carries them: local datetimes, GBP/kWh."""
    start = day.astimezone(UTC)
    rates = []
    for index, value in enumerate(values):
        begin = start + timedelta(minutes=30 * index)
        rates.append(
            {
                "start": begin.astimezone(LONDON),
                "end": (begin + timedelta(minutes=30)).astimezone(LONDON),
                "value_inc_vat": value,
                "is_capped": False,
                "is_intelligent_adjusted": False,
                "tariff_code": TARIFF,
            }
        )
    return rates


def test_datetime_items_of_a_summer_day_are_converted_to_pence() -> None:
    values = [round(0.1523 + 0.001 * i, 4) for i in range(48)]
    rates = day_of_rates(datetime(2024, 6, 1, tzinfo=LONDON), values)

    fetch = parse_rates_attribute(rates, entity_id=ENTITY)

    assert fetch.rejected == ()
    assert len(fetch.slots) == 48
    assert fetch.slots[0].start == datetime(2024, 5, 31, 23, 0, tzinfo=UTC)
    assert fetch.slots[0].start.tzinfo is UTC
    assert fetch.slots[-1].end == datetime(2024, 6, 1, 23, 0, tzinfo=UTC)
    assert fetch.slots[0].value == 15.23
    assert fetch.slots[1].value == 15.33
    assert find_gaps(fetch.slots) == []


def test_iso_string_items_in_any_order() -> None:
    rates = [
        {
            "start": "2024-06-01T00:30:00+01:00",
            "end": "2024-06-01T01:00:00+01:00",
            "value_inc_vat": -0.0212,
            "is_capped": False,
        },
        {
            "start": "2024-05-31T23:00:00Z",
            "end": "2024-05-31T23:30:00Z",
            "value_inc_vat": 0.25,
        },
    ]

    fetch = parse_rates_attribute(tuple(rates), entity_id=ENTITY)

    assert [(s.start.isoformat(), s.value) for s in fetch.slots] == [
        ("2024-05-31T23:00:00+00:00", 25.0),
        ("2024-05-31T23:30:00+00:00", -2.12),
    ]
    assert fetch.rejected == ()


def test_bad_items_are_reported_with_entity_and_index() -> None:
    rates = day_of_rates(datetime(2024, 6, 1, tzinfo=LONDON), [0.1, 0.2, 0.3, 0.4])
    rates[1] = "rate"  # type: ignore[call-overload]
    del rates[2]["end"]
    rates[3]["value_inc_vat"] = 15.23  # pence by mistake: 1523 p/kWh
    rates.append({**rates[0], "start": datetime(2024, 6, 1, 0, 0)})
    rates.append({**rates[0], "value_inc_vat": 0.11})

    fetch = parse_rates_attribute(rates, entity_id=ENTITY)

    assert [s.value for s in fetch.slots] == [10.0]
    assert fetch.rejected == (
        f"{ENTITY}: rates[1] is str, expected a mapping",
        f"{ENTITY}: rates[2]: missing field 'end'",
        (
            f"{ENTITY}: rates[3]: field 'value_inc_vat': 15.23 x 100 = 1523.0 p/kWh "
            "is outside the plausible range [-100.0, 1000.0]"
        ),
        (
            f"{ENTITY}: rates[4]: field 'start': naive time "
            "datetime.datetime(2024, 6, 1, 0, 0) has no UTC offset"
        ),
        (
            f"{ENTITY}: conflicting values for slot 2024-05-31T23:00:00+00:00: "
            "kept 10.0, ignored 11.0"
        ),
    )


@pytest.mark.parametrize("rates", [None, "[]", 0.15, {"start": "x"}])
def test_rates_that_are_not_a_list(rates: Any) -> None:
    fetch = parse_rates_attribute(rates, entity_id=ENTITY)

    assert fetch.slots == ()
    assert fetch.rejected == (
        f"{ENTITY}: attribute 'rates' is {type(rates).__name__}, expected a list",
    )


def test_empty_rates() -> None:
    fetch = parse_rates_attribute([], entity_id=ENTITY)
    assert fetch.slots == ()
    assert fetch.rejected == ()
