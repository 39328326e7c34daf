"""Rates attributes of the Octopus Energy integration's event entities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from custom_components.hems.prices import (
    RatesDay,
    RatesProblem,
    describe_rates_entity,
    find_gaps,
    parse_rates_attribute,
    rates_entities_problem,
)
from tests.conftest import agile_history
from tests.octopus_energy import (
    EXPORT_MPAN,
    EXPORT_TARIFF,
    LONDON,
    MPAN,
    SERIAL,
    as_json,
    before_first_event,
    event_attributes,
    rate_items,
    rates_entity_id,
    rates_unique_id,
    restored,
)

CURRENT = rates_entity_id("current")
NEXT = rates_entity_id("next")
EXPORT_CURRENT = rates_entity_id("current", mpan=EXPORT_MPAN, export=True)

type Form = Callable[[dict[str, Any]], dict[str, Any]]
FORMS: dict[str, Form] = {
    "live": lambda attributes: attributes,
    "restored": restored,
    "json": as_json,
}


def real_day(day: date) -> tuple[datetime, list[float]]:
    """Return local midnight of `day` (UTC) and its real Agile prices (p/kWh)."""
    start = datetime.combine(day, time(), LONDON).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), LONDON).astimezone(UTC)
    return start, [value for slot, _, value in agile_history() if start <= slot < end]


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
@pytest.mark.parametrize(
    ("day", "count"),
    [(date(2020, 6, 1), 48), (date(2020, 3, 29), 46), (date(2020, 10, 25), 50)],
    ids=["summer", "spring_forward", "fall_back"],
)
def test_a_day_as_the_integration_publishes_it(
    form: Form, day: date, count: int
) -> None:
    """Live, restored after a restart or read as JSON: the same slots in p/kWh."""
    start, pence = real_day(day)
    attributes = form(event_attributes("current", rate_items(start, pence)))

    fetch = parse_rates_attribute(attributes["rates"], entity_id=CURRENT)

    assert fetch.rejected == ()
    assert len(fetch.slots) == count
    assert [slot.value for slot in fetch.slots] == pence
    assert fetch.slots[0].start == start
    assert all(slot.start.tzinfo is UTC for slot in fetch.slots)
    assert find_gaps(fetch.slots) == []


def test_the_fixture_is_what_the_integration_produces() -> None:
    """Local datetimes, GBP/kWh to 6 decimals, per-item keys, top-level tariff."""
    start, pence = real_day(date(2020, 6, 1))
    attributes = event_attributes("current", rate_items(start, [15.2345, *pence[1:]]))
    first = attributes["rates"][0]
    assert set(first) == {"start", "end", "value_inc_vat", "is_capped"}
    assert first["start"] == datetime(2020, 6, 1, tzinfo=LONDON)
    assert first["start"].utcoffset() == timedelta(hours=1)
    assert first["value_inc_vat"] == 0.152345
    assert attributes["tariff_code"] == "E-1R-AGILE-24-10-01-C"
    assert attributes["min_rate"] == min(
        item["value_inc_vat"] for item in attributes["rates"]
    )

    # After a restart: datetimes again, in local time; an all-digit serial
    # number becomes an int, the MPAN stays a string.
    again = restored(event_attributes("current", attributes["rates"], serial="1234"))
    assert again["rates"][0]["start"] == first["start"]
    assert again["rates"][0]["start"].tzinfo == LONDON
    assert again["serial_number"] == 1234
    assert again["mpan"] == MPAN
    # Through the REST API: ISO strings with the local offset.
    assert as_json(attributes)["rates"][0]["start"] == "2020-06-01T00:00:00+01:00"

    intelligent = rate_items(start, pence[:1], intelligent=True)[0]
    assert intelligent["is_intelligent_adjusted"] is False


def test_bad_items_are_reported_with_entity_and_index() -> None:
    start = datetime(2024, 6, 1, tzinfo=LONDON)
    rates = rate_items(start, [10.0, 20.0, 30.0, 40.0])
    rates[1] = "rate"  # type: ignore[call-overload]
    del rates[2]["end"]
    rates[3]["value_inc_vat"] = 15.23  # pence by mistake: 1523 p/kWh
    rates.append({**rates[0], "start": datetime(2024, 6, 1, 0, 0)})
    rates.append({**rates[0], "value_inc_vat": 0.11})

    fetch = parse_rates_attribute(rates, entity_id=CURRENT)

    assert [s.value for s in fetch.slots] == [10.0]
    assert fetch.rejected == (
        f"{CURRENT}: rates[1] is str, expected a mapping",
        f"{CURRENT}: rates[2]: missing field 'end'",
        (
            f"{CURRENT}: rates[3]: field 'value_inc_vat': 15.23 x 100 = 1523.0 p/kWh "
            "is outside the plausible range [-100.0, 1000.0]"
        ),
        (
            f"{CURRENT}: rates[4]: field 'start': naive time "
            "datetime.datetime(2024, 6, 1, 0, 0) has no UTC offset"
        ),
        (
            f"{CURRENT}: conflicting values for slot 2024-05-31T23:00:00+00:00: "
            "kept 10.0, ignored 11.0"
        ),
    )


@pytest.mark.parametrize("rates", [None, "[]", 0.15, {"start": "x"}])
def test_rates_that_are_not_a_list(rates: Any) -> None:
    fetch = parse_rates_attribute(rates, entity_id=CURRENT)

    assert fetch.slots == ()
    assert fetch.rejected == (
        f"{CURRENT}: attribute 'rates' is {type(rates).__name__}, expected a list",
    )


def test_empty_rates() -> None:
    fetch = parse_rates_attribute([], entity_id=CURRENT)
    assert fetch.slots == ()
    assert fetch.rejected == ()


# --- what an entity is, and whether a choice of entities makes sense --------

START, PENCE = real_day(date(2020, 9, 27))
TOMORROW, TOMORROW_PENCE = real_day(date(2020, 9, 28))


def current_day(**kwargs: Any) -> dict[str, Any]:
    return event_attributes("current", rate_items(START, PENCE), **kwargs)


def next_day(**kwargs: Any) -> dict[str, Any]:
    return event_attributes("next", rate_items(TOMORROW, TOMORROW_PENCE), **kwargs)


def test_rates_entities_are_recognised_by_id_unique_id_or_event_type() -> None:
    by_id = describe_rates_entity(CURRENT, current_day())
    assert by_id.day is RatesDay.CURRENT
    assert by_id.meter == f"{SERIAL.lower()}/{MPAN}"
    assert not by_id.export
    assert not by_id.gas
    assert by_id.rates is not None
    assert len(by_id.rates.slots) == 48

    # Renamed by the user: the unique id (from the entity registry) still tells.
    renamed = describe_rates_entity(
        "event.tomorrow_prices",
        before_first_event("next"),
        unique_id=rates_unique_id(NEXT),
    )
    assert renamed.day is RatesDay.NEXT
    assert renamed.meter == f"{SERIAL.lower()}/{MPAN}"
    assert renamed.rates is None

    # Renamed and not in the registry: the event type and attributes tell.
    typed = describe_rates_entity("event.today", restored(current_day(serial="1234")))
    assert typed.day is RatesDay.CURRENT
    assert typed.meter == f"1234/{MPAN}"

    export = describe_rates_entity(EXPORT_CURRENT, before_first_event("current"))
    assert export.export

    gas = describe_rates_entity(
        "event.octopus_energy_gas_e6s1_9000000_current_day_rates", {}
    )
    assert gas.gas
    assert gas.day is RatesDay.CURRENT

    other = describe_rates_entity("sensor.prices", {"rates": []})
    assert other.day is None
    assert other.meter is None


@pytest.mark.parametrize(
    "attributes",
    [
        {**current_day(), "tariff_code": EXPORT_TARIFF},
        {**current_day(), "tariff_code": "E-1R-FLUX-EXPORT-23-02-14-C"},
        {"rates": [], "is_export": True},
    ],
    ids=["agile_outgoing", "flux_export", "is_export"],
)
def test_an_export_entity_is_recognised_by_its_attributes(
    attributes: dict[str, Any],
) -> None:
    assert describe_rates_entity("event.renamed", attributes).export


def test_a_gas_tariff_code_is_recognised() -> None:
    entity = describe_rates_entity(
        "event.renamed", {**current_day(), "tariff_code": "G-1R-VAR-22-11-01-C"}
    )
    assert entity.gas


def problem(*entities: tuple[str, dict[str, Any]]) -> RatesProblem | None:
    return rates_entities_problem(
        [describe_rates_entity(entity_id, attrs) for entity_id, attrs in entities]
    )


@pytest.mark.parametrize(
    "next_attributes",
    [
        before_first_event("next"),
        event_attributes("next", []),
        next_day(),
        restored(next_day()),
    ],
    ids=["before_first_event", "after_midnight", "published", "restored"],
)
def test_the_pair_is_accepted_while_tomorrow_is_unknown(
    next_attributes: dict[str, Any],
) -> None:
    assert problem((CURRENT, current_day()), (NEXT, next_attributes)) is None
    assert problem((NEXT, next_attributes), (CURRENT, restored(current_day()))) is None


def test_a_restored_all_digit_serial_is_the_same_meter() -> None:
    serial = "19876543"
    current = rates_entity_id("current", serial=serial)
    following = rates_entity_id("next", serial=serial)
    assert (
        problem(
            (current, restored(current_day(serial=serial))),
            (following, before_first_event("next")),
        )
        is None
    )


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        (
            [(CURRENT, current_day())],
            RatesProblem(key="pair_incomplete", entity=CURRENT, other=NEXT),
        ),
        (
            [(NEXT, next_day())],
            RatesProblem(key="pair_incomplete", entity=NEXT, other=CURRENT),
        ),
        (
            [(CURRENT, current_day()), (EXPORT_CURRENT, current_day(mpan=EXPORT_MPAN))],
            RatesProblem(key="export_rates", entity=EXPORT_CURRENT),
        ),
        (
            [
                (CURRENT, current_day()),
                ("event.renamed", {**next_day(), "tariff_code": EXPORT_TARIFF}),
            ],
            RatesProblem(key="export_rates", entity="event.renamed"),
        ),
        (
            [("event.octopus_energy_gas_e6s1_9000000_current_day_rates", {})],
            RatesProblem(
                key="gas_rates",
                entity="event.octopus_energy_gas_e6s1_9000000_current_day_rates",
            ),
        ),
        (
            [(CURRENT, current_day()), (rates_entity_id("previous"), current_day())],
            RatesProblem(key="previous_day_rates", entity=rates_entity_id("previous")),
        ),
        (
            [
                (CURRENT, current_day()),
                (
                    rates_entity_id("next", mpan="1900000000001"),
                    next_day(mpan="1900000000001"),
                ),
            ],
            RatesProblem(
                key="different_meters",
                entity=CURRENT,
                other=rates_entity_id("next", mpan="1900000000001"),
            ),
        ),
        (
            [
                (CURRENT, current_day()),
                (
                    rates_entity_id("current", mpan="1900000000001"),
                    before_first_event("current"),
                ),
            ],
            RatesProblem(
                key="different_meters",
                entity=CURRENT,
                other=rates_entity_id("current", mpan="1900000000001"),
            ),
        ),
        (
            [(CURRENT, before_first_event("current")), (NEXT, next_day())],
            RatesProblem(key="no_rates_yet", entity=CURRENT),
        ),
        (
            [(CURRENT, event_attributes("current", [])), (NEXT, next_day())],
            RatesProblem(key="no_rates_yet", entity=CURRENT),
        ),
        (
            [(CURRENT, {**current_day(), "rates": "none"}), (NEXT, next_day())],
            RatesProblem(
                key="no_rates",
                entity=CURRENT,
                error=f"{CURRENT}: attribute 'rates' is str, expected a list",
            ),
        ),
        (
            [(CURRENT, current_day()), (NEXT, {**next_day(), "rates": [{"start": 1}]})],
            RatesProblem(
                key="no_rates",
                entity=NEXT,
                error=f"{NEXT}: rates[0]: missing field 'end'",
            ),
        ),
        (
            [("sensor.prices", {"rates": []})],
            RatesProblem(
                key="no_rates",
                entity="sensor.prices",
                error="its 'rates' attribute is missing or empty",
            ),
        ),
        (
            [("sensor.prices", {"rates": "none"})],
            RatesProblem(
                key="no_rates",
                entity="sensor.prices",
                error="sensor.prices: attribute 'rates' is str, expected a list",
            ),
        ),
    ],
    ids=[
        "current_alone",
        "next_alone",
        "export_entity",
        "export_tariff",
        "gas",
        "previous_day",
        "different_meters",
        "two_current_days",
        "current_before_first_event",
        "current_empty",
        "current_unusable",
        "next_unusable",
        "other_entity_without_rates",
        "other_entity_with_bad_rates",
    ],
)
def test_choices_that_make_no_sense(
    entities: list[tuple[str, dict[str, Any]]], expected: RatesProblem
) -> None:
    assert problem(*entities) == expected


def test_other_entities_and_repeats() -> None:
    rates = {"rates": rate_items(START, PENCE)}
    assert problem(("sensor.prices", rates)) is None
    assert (
        problem((CURRENT, current_day()), (CURRENT, current_day()), (NEXT, {})) is None
    )
    assert (
        problem(("sensor.prices", rates), (CURRENT, current_day()), (NEXT, {})) is None
    )


def test_a_renamed_entity_without_a_name_is_described_in_words() -> None:
    entities = [describe_rates_entity("event.today", current_day())]
    found = rates_entities_problem(entities)
    assert found == RatesProblem(
        key="pair_incomplete",
        entity="event.today",
        other="the next day rates entity of the same meter",
    )
