"""OpenADR events as openleadr hands them to a VEN, mapped to the model.

The dicts are what ``openleadr.messaging.parse_message`` returns for the
recorded payloads (EPRI's test VTN and openleadr's documented example; see
tests/fixtures/README.md), transcribed field for field.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.hems.flex import (
    Direction,
    FlexEventError,
    Source,
    adjust_prices,
    read_event,
)

EPRI: dict[str, Any] = {
    "active_period": {
        "dtstart": datetime(2015, 6, 26, 18, 0, tzinfo=UTC),
        "duration": timedelta(seconds=7200),
        "notification": timedelta(0),
        "ramp_up": timedelta(0),
        "recovery": timedelta(0),
        "tolerance": {"tolerate": {"startafter": timedelta(0)}},
    },
    "event_descriptor": {
        "created_date_time": datetime(2015, 6, 26, 17, 52, 34, tzinfo=UTC),
        "event_id": "71dd232a8dab3b1a7279",
        "event_status": "far",
        "market_context": "http://MarketContext1",
        "modification_number": 0,
        "modification_reason": None,
        "priority": 0,
        "test_event": False,
        "vtn_comment": None,
    },
    "event_signals": [
        {
            "current_value": 0.0,
            "intervals": [
                {"duration": timedelta(seconds=3600), "signal_payload": 0.5, "uid": 0},
                {"duration": timedelta(seconds=3600), "signal_payload": 0.75, "uid": 1},
            ],
            "signal_id": "91a13ce4059321b76d72",
            "signal_name": "ENERGY_PRICE",
            "signal_type": "price",
        },
        {
            "current_value": 0.0,
            "intervals": [
                {"duration": timedelta(seconds=2400), "signal_payload": 0.0, "uid": 0},
                {"duration": timedelta(seconds=2400), "signal_payload": 1.0, "uid": 1},
                {"duration": timedelta(seconds=2400), "signal_payload": 2.0, "uid": 2},
            ],
            "signal_id": "413452dd95b8ffdb2f28",
            "signal_name": "simple",
            "signal_type": "delta",
        },
    ],
    "response_required": "always",
    "targets": [{"ven_id": "deef06ba5329fcc0e5fa"}],
    "targets_by_type": {"ven_id": ["deef06ba5329fcc0e5fa"]},
}

OPENLEADR_DOCS: dict[str, Any] = {
    "active_period": {
        "dtstart": datetime(2020, 12, 3, 14, 23, 7, 606894, tzinfo=UTC),
        "duration": timedelta(seconds=540),
    },
    "event_descriptor": {
        "event_id": "541c76cb-36db-4ece-bf06-1ec80d06aa5d",
        "event_status": "near",
        "modification_number": 1,
        "test_event": False,
        "vtn_comment": "This is an event",
    },
    "event_signals": [
        {
            "current_value": 0.0,
            "intervals": [
                {"duration": timedelta(seconds=60), "signal_payload": value, "uid": uid}
                for uid, value in enumerate(
                    [8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 10.0, 20.0]
                )
            ],
            "measurement": {
                "description": "Voltage",
                "name": "voltage",
                "scale": "none",
                "unit": "V",
            },
            "signal_id": "ca5a2b4b-69b4-40ee-93ca-dbfa23da545d",
            "signal_name": "LOAD_CONTROL",
            "signal_type": "x-loadControlCapacity",
        }
    ],
    "response_required": "always",
    "targets": [{"ven_id": "VEN001"}, {"ven_id": "VEN002"}],
}


def test_epri_price_and_simple_levels() -> None:
    read = read_event(EPRI, level_uplift_p=10, price_scale=100)
    assert (read.event_id, read.status, read.modification) == (
        "71dd232a8dab3b1a7279",
        "far",
        0,
    )
    assert read.response_required
    assert not read.test
    event = read.event
    assert event is not None
    assert event.source is Source.OPENADR
    assert event.direction is Direction.DOWN
    start = datetime(2015, 6, 26, 18, tzinfo=UTC)
    assert (event.start, event.end) == (start, start + timedelta(hours=2))
    # Cut at 18:40 (level 1), 19:00 (second price), 19:20 (level 2).
    minutes = [(ask.start - start) // timedelta(minutes=1) for ask in event.asks]
    assert minutes == [0, 40, 60, 80]
    assert [ask.price for ask in event.asks] == [50, 50, 75, 75]
    assert [ask.price_delta for ask in event.asks] == [0, 10, 10, 20]
    # Half-hours at 20p become the event's prices, blended where cut.
    half = timedelta(minutes=30)
    slots = [(start + i * half, start + (i + 1) * half, 20.0) for i in range(4)]
    assert adjust_prices(slots, [event]) == pytest.approx(
        [50, 50 + 10 * 20 / 30, 75 + (10 * 20 + 20 * 10) / 30, 95], abs=1e-3
    )


def test_openleadr_docs_load_control_capacity_is_a_turn_down_without_a_target() -> None:
    event = read_event(OPENLEADR_DOCS).event
    assert event is not None
    assert event.direction is Direction.DOWN
    assert event.title == "This is an event"
    assert len(event.asks) == 9
    assert {(ask.max_import_kw, ask.price, ask.price_delta) for ask in event.asks} == {
        (None, None, 0)
    }


def _event(
    *signals: dict[str, Any], duration: timedelta = timedelta(hours=1)
) -> dict[str, Any]:
    return {
        "active_period": {
            "dtstart": datetime(2026, 12, 1, 17, tzinfo=UTC),
            "duration": duration,
        },
        "event_descriptor": {"event_id": "e", "event_status": "far"},
        "event_signals": list(signals),
        "response_required": "never",
    }


def _signal(name: str, kind: str, *values: float, **extra: Any) -> dict[str, Any]:
    step = timedelta(hours=1) / len(values)
    return {
        "signal_name": name,
        "signal_type": kind,
        "intervals": [
            {"duration": step, "signal_payload": v, "uid": i}
            for i, v in enumerate(values)
        ],
    } | extra


def test_dispatch_setpoint_in_watts_is_an_import_cap() -> None:
    read = read_event(
        _event(
            _signal(
                "LOAD_DISPATCH",
                "setpoint",
                1500,
                800,
                measurement={"unit": "W", "scale": "none"},
            )
        )
    )
    assert not read.response_required
    assert read.event is not None
    assert [ask.max_import_kw for ask in read.event.asks] == [1.5, 0.8]


def test_relative_price_cut_is_a_turn_up() -> None:
    event = read_event(
        _event(_signal("ELECTRICITY_PRICE", "priceRelative", -0.1))
    ).event
    assert event is not None
    assert event.direction is Direction.UP
    assert event.asks[0].price_delta == pytest.approx(-10)


def test_a_cancelled_event_carries_no_event() -> None:
    raw = _event() | {
        "event_descriptor": {
            "event_id": "e",
            "event_status": "cancelled",
            "test_event": True,
        }
    }
    read = read_event(raw)
    assert read.event is None
    assert read.status == "cancelled"
    assert read.test


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "event: expected an object"),
        ({"event_descriptor": {}}, "event_descriptor.event_id: is required"),
        (
            _event(duration=timedelta(0)),
            "active_period.duration: open-ended events are not supported",
        ),
        (_event(), "event_signals: the event has no signals"),
        (
            _event(_signal("BID_LOAD", "setpoint", 1)),
            "event_signals[0].signal_type: BID_LOAD 'setpoint' is not supported",
        ),
        (
            _event(_signal("ELECTRICITY_PRICE", "priceMultiplier", 2)),
            "event_signals[0].signal_type: ELECTRICITY_PRICE 'priceMultiplier'",
        ),
        (
            _event(_signal("SIMPLE", "level", 0, 0)),
            "event_signals: every interval asks for normal use",
        ),
        (
            _event(_signal("SIMPLE", "level", 1), _signal("LOAD_DISPATCH", "delta", 2)),
            "event_signals: asks both for less and for more import",
        ),
        (
            _event(_signal("SIMPLE", "level", "high")),
            "event_signals[0].intervals[0].signal_payload: 'high' is not a number",
        ),
        (
            _event({"signal_name": "SIMPLE", "intervals": []}),
            "event_signals[0].intervals: no intervals",
        ),
        (
            _event(
                _signal("SIMPLE", "level", 1) | {"intervals": [{"signal_payload": 1}]}
            ),
            "event_signals[0].intervals[0].duration",
        ),
        (
            _event(_signal("LOAD_DISPATCH", "setpoint", -5)),
            "event_signals[0].signal_payload: -5 is outside",
        ),
        (_event(5), "event_signals[0]: expected an object"),
        (_event() | {"active_period": None}, "active_period: is required"),
    ],
)
def test_what_cannot_be_mapped_names_the_field(raw: Any, message: str) -> None:
    with pytest.raises(FlexEventError) as caught:
        read_event(raw)
    assert str(caught.value).startswith(message)
