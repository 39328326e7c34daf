"""Models, record parsing, merging and gap detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import itertools
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.prices import (
    MAX_PRICE,
    MIN_PRICE,
    REGIONS,
    SLOT,
    InvalidPriceRecord,
    MergeResult,
    PriceSlot,
    Product,
    RateFetch,
    find_gaps,
    merge_slots,
    parse_rate,
)

from .conftest import load_fixture

T0 = datetime(2020, 9, 28, 21, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def slot(index: int, value: float, *, base: datetime = T0) -> PriceSlot:
    start = base + index * SLOT
    return PriceSlot(start=start, end=start + SLOT, value=value)


# --- models -------------------------------------------------------------------


def test_regions_are_the_14_gsp_groups() -> None:
    assert len(REGIONS) == 14
    assert "I" not in REGIONS
    assert "O" not in REGIONS
    assert REGIONS["A"] == "Eastern England"
    assert REGIONS["C"] == "London"
    assert REGIONS["P"] == "Northern Scotland"
    assert list(REGIONS) == list("ABCDEFGHJKLMNP")


def test_price_slot_normalises_to_utc() -> None:
    local = datetime(2020, 9, 28, 22, 0, tzinfo=LONDON)  # BST: 21:00Z
    made = PriceSlot(start=local, end=local + SLOT, value=7)

    assert made.start == T0
    assert made.start.tzinfo is UTC
    assert made.end.tzinfo is UTC
    assert made.value == 7.0
    assert type(made.value) is float
    assert made == slot(0, 7.0)


def test_price_slot_is_frozen_and_hashable() -> None:
    made = slot(0, 7.14)
    with pytest.raises(AttributeError):
        made.value = 1.0  # type: ignore[misc]
    assert {made, slot(0, 7.14)} == {made}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": datetime(2020, 9, 28, 21, 0)}, "field 'start': naive time"),
        ({"end": datetime(2020, 9, 28, 21, 30)}, "field 'end': naive time"),
        ({"start": "2020-09-28T21:00:00Z"}, "PriceSlot.start: expected a datetime"),
        ({"end": None}, "PriceSlot.end: expected a datetime, got NoneType"),
        ({"end": T0}, "is not after start"),
        ({"value": math.nan}, "PriceSlot.value: nan is not finite"),
        ({"value": math.inf}, "PriceSlot.value: inf is not finite"),
        ({"value": 10**400}, "is not finite"),
        ({"value": True}, "PriceSlot.value: expected a number, got bool"),
        ({"value": "7.1"}, "PriceSlot.value: expected a number, got str"),
    ],
)
def test_price_slot_rejects_bad_fields(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"start": T0, "end": T0 + SLOT, "value": 7.0} | kwargs
    with pytest.raises(InvalidPriceRecord, match=message):
        PriceSlot(**fields)


def test_price_slot_round_trips_through_a_dict() -> None:
    made = slot(0, -2.5)
    stored = made.as_dict()

    assert stored == {
        "start": "2020-09-28T21:00:00+00:00",
        "end": "2020-09-28T21:30:00+00:00",
        "value": -2.5,
    }
    assert PriceSlot.from_dict(stored) == made


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["2020-09-28T21:00:00Z"], "expected a mapping, got list"),
        ({"start": "2020-09-28T21:00:00Z", "end": "2020-09-28T21:30:00Z"}, "'value'"),
        (
            {"start": "x", "end": "2020-09-28T21:30:00Z", "value": 1},
            "field 'start': unparsable time 'x'",
        ),
        (
            {
                "start": "2020-09-28T21:00:00Z",
                "end": "2020-09-28T22:00:00Z",
                "value": 1,
            },
            "stored price slot: slot .* lasts 1:00:00",
        ),
        (
            {
                "start": "2020-09-28T21:00:00Z",
                "end": "2020-09-28T21:30:00Z",
                "value": 1e9,
            },
            "outside the plausible range",
        ),
    ],
)
def test_price_slot_from_bad_dict(data: Any, message: str) -> None:
    with pytest.raises(InvalidPriceRecord, match=message):
        PriceSlot.from_dict(data)


def test_product_availability() -> None:
    product = Product(
        code="AGILE-24-10-01",
        display_name="Agile Octopus",
        full_name="Agile Octopus October 2024 v1",
        direction="IMPORT",
        is_variable=True,
        brand="OCTOPUS_ENERGY",
        available_from=datetime(2024, 9, 30, 23, 0, tzinfo=UTC),
        available_to=datetime(2025, 9, 30, 23, 0, tzinfo=UTC),
    )
    assert product.is_available_at(datetime(2025, 1, 1, tzinfo=UTC))
    assert not product.is_available_at(datetime(2024, 9, 30, 22, 59, tzinfo=UTC))
    assert not product.is_available_at(datetime(2025, 9, 30, 23, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        product.is_available_at(datetime(2025, 1, 1))


def test_result_types_are_plain_frozen_records() -> None:
    fetch = RateFetch(slots=(slot(0, 1.0),), rejected=("x",))
    result = MergeResult((), 0, 0, ())
    assert fetch.slots[0].value == 1.0
    assert result.added == 0
    with pytest.raises(AttributeError):
        fetch.rejected = ()  # type: ignore[misc]


# --- parse_rate ---------------------------------------------------------------


def test_parse_rate_reads_every_record_of_the_recorded_page() -> None:
    records = load_fixture("octopus_agile_unit_rates.json")["results"]

    slots = [parse_rate(record) for record in records]

    assert len(slots) == 100
    assert slots[0] == PriceSlot(start=T0 + SLOT, end=T0 + 2 * SLOT, value=7.14)
    assert all(s.end - s.start == SLOT for s in slots)
    assert all(a.start - b.start == SLOT for a, b in itertools.pairwise(slots))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2020-09-28T21:00:00Z", "2020-09-28T21:30:00Z"),
        ("2020-09-28T22:00:00+01:00", "2020-09-28T22:30:00+01:00"),
        ("2020-09-28T21:00:00+00:00", "2020-09-28T21:30:00.000000+00:00"),
        (T0, T0 + SLOT),
        (T0.astimezone(LONDON), (T0 + SLOT).astimezone(timezone(timedelta(hours=5)))),
    ],
)
def test_parse_rate_accepts_iso_strings_and_aware_datetimes(
    start: Any, end: Any
) -> None:
    parsed = parse_rate({"valid_from": start, "valid_to": end, "value_inc_vat": 7})

    assert parsed == slot(0, 7.0)
    assert parsed.start.tzinfo is UTC


def test_parse_rate_custom_keys_and_scale() -> None:
    record = {"start": T0, "end": T0 + SLOT, "price": 0.1523}

    parsed = parse_rate(
        record, start_key="start", end_key="end", value_key="price", scale=100
    )

    assert parsed.value == 15.23  # not 15.229999999999999
    assert parse_rate(record, start_key="start", end_key="end", value_key="price")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"valid_from": None}, "field 'valid_from': expected an ISO 8601 time"),
        ({"valid_to": "tomorrow"}, "field 'valid_to': unparsable time 'tomorrow'"),
        ({"valid_from": "2020-09-28T21:00:00"}, "field 'valid_from': naive time"),
        ({"valid_to": datetime(2020, 9, 28, 21, 30)}, "field 'valid_to': naive time"),
        ({"valid_to": "2020-09-28T22:00:00Z"}, "lasts 1:00:00, expected 0:30:00"),
        ({"valid_to": "2020-09-28T21:00:00Z"}, "lasts 0:00:00"),
        (
            {"valid_from": "2020-09-28T21:15:00Z", "valid_to": "2020-09-28T21:45:00Z"},
            "not on a half-hour boundary",
        ),
        (
            {
                "valid_from": "2020-09-28T21:00:01Z",
                "valid_to": "2020-09-28T21:30:01Z",
            },
            "not on a half-hour boundary",
        ),
        ({"value_inc_vat": math.nan}, "field 'value_inc_vat': nan is not finite"),
        ({"value_inc_vat": -math.inf}, "-inf is not finite"),
        ({"value_inc_vat": "7.14"}, "expected a number, got str '7.14'"),
        ({"value_inc_vat": None}, "expected a number, got NoneType"),
        ({"value_inc_vat": False}, "expected a number, got bool"),
        ({"value_inc_vat": MAX_PRICE + 0.1}, r"1000.1 p/kWh is outside"),
        ({"value_inc_vat": MIN_PRICE - 1}, r"-101.0 p/kWh is outside"),
        ({"value_inc_vat": 10**400}, "is not finite"),
        ({"value_inc_vat": "x" * 100}, r"'xxxx.*\.\.\."),
    ],
)
def test_parse_rate_rejects(change: dict[str, Any], message: str) -> None:
    record = {
        "valid_from": "2020-09-28T21:00:00Z",
        "valid_to": "2020-09-28T21:30:00Z",
        "value_inc_vat": 7.14,
    } | change
    with pytest.raises(InvalidPriceRecord, match=message):
        parse_rate(record)


def test_parse_rate_names_a_missing_field_and_non_mappings() -> None:
    with pytest.raises(InvalidPriceRecord, match="missing field 'valid_to'"):
        parse_rate({"valid_from": "2020-09-28T21:00:00Z", "value_inc_vat": 1})
    with pytest.raises(InvalidPriceRecord, match="expected a mapping, got list"):
        parse_rate(["2020-09-28T21:00:00Z"])  # type: ignore[arg-type]


def test_parse_rate_scaled_value_out_of_range_shows_the_product() -> None:
    record = {"valid_from": T0, "valid_to": T0 + SLOT, "value_inc_vat": 15.0}
    with pytest.raises(InvalidPriceRecord, match=r"15.0 x 100 = 1500.0 p/kWh"):
        parse_rate(record, scale=100)


def test_plausible_bounds() -> None:
    assert (MIN_PRICE, MAX_PRICE) == (-100.0, 1000.0)
    for value in (MIN_PRICE, MAX_PRICE, 0, -65.0):
        record = {"valid_from": T0, "valid_to": T0 + SLOT, "value_inc_vat": value}
        assert parse_rate(record).value == value


# --- merge_slots ----------------------------------------------------------------


def test_merge_adds_replaces_and_deduplicates() -> None:
    existing = [slot(0, 1.0), slot(1, 2.0), slot(2, 3.0)]
    incoming = [slot(4, 5.0), slot(1, 2.5), slot(2, 3.0), slot(3, 4.0)]

    result = merge_slots(existing, incoming)

    assert [s.value for s in result.slots] == [1.0, 2.5, 3.0, 4.0, 5.0]
    assert result.added == 2
    assert result.changed == 1
    assert result.rejected == ()
    assert [s.start for s in result.slots] == sorted(s.start for s in result.slots)


def test_merge_keeps_the_first_of_conflicting_incoming_slots() -> None:
    result = merge_slots(
        [slot(0, 1.0)], iter([slot(0, 9.0), slot(0, 8.0), slot(0, 9.0)])
    )

    assert [s.value for s in result.slots] == [9.0]
    assert result.changed == 1
    assert result.added == 0
    assert result.rejected == (
        "conflicting values for slot 2020-09-28T21:00:00+00:00: kept 9.0, ignored 8.0",
    )


def test_merge_of_nothing() -> None:
    assert merge_slots([], []) == MergeResult((), 0, 0, ())
    same = merge_slots([slot(0, 1.0)], [slot(0, 1.0)])
    assert same == MergeResult((slot(0, 1.0),), 0, 0, ())


def test_merge_rejects_slots_off_the_half_hour_grid() -> None:
    shifted = PriceSlot(
        start=T0 + timedelta(minutes=15), end=T0 + timedelta(minutes=45), value=1.0
    )
    hour = PriceSlot(start=T0, end=T0 + 2 * SLOT, value=1.0)
    absurd = slot(3, 5000.0)

    result = merge_slots([slot(0, 2.0), hour], [shifted, slot(1, 3.0), absurd])

    assert [s.value for s in result.slots] == [2.0, 3.0]
    assert result.added == 1
    assert len(result.rejected) == 3
    assert result.rejected[0].startswith("existing slot dropped: slot ")
    assert "lasts 1:00:00" in result.rejected[0]
    assert "not on a half-hour boundary" in result.rejected[1]
    assert result.rejected[1].startswith("incoming slot rejected:")
    assert "5000.0 p/kWh is outside the plausible range" in result.rejected[2]


# --- find_gaps -----------------------------------------------------------------


def test_find_gaps() -> None:
    assert find_gaps([]) == []
    assert find_gaps([slot(0, 1.0)]) == []
    assert find_gaps([slot(0, 1.0), slot(1, 1.0), slot(2, 1.0)]) == []
    slots = [slot(5, 1.0), slot(0, 1.0), slot(1, 1.0), slot(4, 1.0), slot(9, 1.0)]
    assert find_gaps(slots) == [
        (T0 + 2 * SLOT, T0 + 4 * SLOT),
        (T0 + 6 * SLOT, T0 + 9 * SLOT),
    ]


def test_find_gaps_ignores_overlaps() -> None:
    long = PriceSlot(start=T0, end=T0 + 4 * SLOT, value=1.0)
    assert find_gaps([long, slot(1, 1.0), slot(4, 1.0)]) == []
    assert find_gaps([long, slot(1, 1.0), slot(5, 1.0)]) == [
        (T0 + 4 * SLOT, T0 + 5 * SLOT)
    ]
