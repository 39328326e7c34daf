"""OctopusClient against a real HTTP server on 127.0.0.1 serving recorded pages."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import itertools
import math
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.hems.prices import (
    DEFAULT_BASE_URL,
    MAX_PAGES,
    MAX_RETRY_AFTER,
    InvalidPriceRecord,
    OctopusAuthenticationError,
    OctopusClient,
    OctopusConnectionError,
    OctopusError,
    OctopusNotFoundError,
    OctopusRateLimitError,
    OctopusResponseError,
    PriceSourceError,
    RateFetch,
    find_gaps,
    tariff_code,
)

from .conftest import FakeOctopus, json_response, load_fixture

PRODUCT = "AGILE-18-02-21"
TARIFF = "E-1R-AGILE-18-02-21-C"
RATES_PATH = f"/v1/products/{PRODUCT}/electricity-tariffs/{TARIFF}/standard-unit-rates/"
PRODUCTS_PATH = "/v1/products/"
PAGE_SPAN = timedelta(hours=50)  # the recorded page holds 100 half-hours


def _shift(stamp: str, delta: timedelta) -> str:
    moment = datetime.fromisoformat(stamp) + delta
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def real_pages(octopus: FakeOctopus) -> tuple[dict[str, Any], dict[str, Any]]:
    """Page 1 is the recorded page; page 2 is it moved 50 h earlier."""
    page1 = load_fixture("octopus_agile_unit_rates.json")
    assert page1["next"].endswith(f"{RATES_PATH}?page=2")
    page1["next"] = octopus.url(RATES_PATH) + "?page=2"
    page2 = load_fixture("octopus_agile_unit_rates.json")
    page2["next"] = None
    page2["previous"] = octopus.url(RATES_PATH)
    for record in page2["results"]:
        record["valid_from"] = _shift(record["valid_from"], -PAGE_SPAN)
        record["valid_to"] = _shift(record["valid_to"], -PAGE_SPAN)
    return page1, page2


def serve_pages(octopus: FakeOctopus, path: str, *pages: dict[str, Any]) -> None:
    """Serve `pages` at `path`, selected by the `page` query parameter."""

    async def handler(request: web.Request) -> web.Response:
        return json_response(pages[int(request.query.get("page", "1")) - 1])

    octopus.route(path, handler)


def page(results: list[Any], next_link: str | None = None) -> dict[str, Any]:
    return {
        "count": len(results),
        "next": next_link,
        "previous": None,
        "results": results,
    }


def rate(start: str, value: Any, *, minutes: int = 30, **extra: Any) -> dict[str, Any]:
    begin = datetime.fromisoformat(start)
    return {
        "value_exc_vat": value,
        "value_inc_vat": value,
        "valid_from": start,
        "valid_to": (begin + timedelta(minutes=minutes))
        .isoformat()
        .replace("+00:00", "Z"),
        **extra,
    }


# --- unit rates: the recorded page ------------------------------------------


async def test_unit_rates_follows_pages_of_the_recorded_response(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    page1, page2 = real_pages(octopus)
    serve_pages(octopus, RATES_PATH, page1, page2)
    period_from = datetime(2020, 9, 24, 18, 0, tzinfo=UTC)
    period_to = datetime(2020, 9, 28, 23, 0, tzinfo=UTC)

    fetch = await client.unit_rates(
        PRODUCT, "C", period_from=period_from, period_to=period_to
    )

    assert fetch.rejected == ()
    assert len(fetch.slots) == 200
    assert fetch.slots[0].start == datetime(2020, 9, 24, 18, 0, tzinfo=UTC)
    assert fetch.slots[-1].end == datetime(2020, 9, 28, 22, 0, tzinfo=UTC)
    assert find_gaps(fetch.slots) == []
    assert all(a.end == b.start for a, b in itertools.pairwise(fetch.slots))
    # The newest recorded record: 2020-09-28T21:30Z at 7.14 p/kWh inc VAT.
    assert fetch.slots[-1].value == 7.14
    assert fetch.slots[-1].start.tzinfo is UTC
    # The oldest recorded record (9.912 at 2020-09-26T20:00Z) starts page 1's range.
    by_start = {slot.start: slot.value for slot in fetch.slots}
    assert by_start[datetime(2020, 9, 26, 20, 0, tzinfo=UTC)] == 9.912
    assert by_start[datetime(2020, 9, 26, 20, 0, tzinfo=UTC) - PAGE_SPAN] == 9.912

    first, second = octopus.requests
    assert first.path == second.path == RATES_PATH
    assert first.query == {
        "page_size": "1500",
        "period_from": "2020-09-24T18:00:00Z",
        "period_to": "2020-09-28T23:00:00Z",
    }
    assert second.query == {"page": "2"}
    assert first.authorization is None


async def test_unit_rates_without_period_sends_only_page_size(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    page1 = load_fixture("octopus_agile_unit_rates.json")
    page1["next"] = None
    octopus.route_json(RATES_PATH, page1)

    fetch = await client.unit_rates(PRODUCT, "C")

    assert len(fetch.slots) == 100
    assert octopus.requests[0].query == {"page_size": "1500"}


async def test_unit_rates_period_in_local_time_is_sent_as_utc(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    octopus.route_json(RATES_PATH, page([]))
    local_midnight = datetime(2020, 9, 28, 0, 0, tzinfo=ZoneInfo("Europe/London"))

    fetch = await client.unit_rates(PRODUCT, "C", period_from=local_midnight)

    assert fetch == RateFetch((), ())
    assert octopus.requests[0].query["period_from"] == "2020-09-27T23:00:00Z"


async def test_unit_rates_rejects_bad_arguments_before_any_request(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    with pytest.raises(ValueError, match="naive"):
        await client.unit_rates(PRODUCT, "C", period_from=datetime(2020, 9, 28))
    with pytest.raises(ValueError, match="period_to"):
        await client.unit_rates(PRODUCT, "C", period_to=datetime(2020, 9, 28))
    with pytest.raises(TypeError, match="period_from must be a datetime"):
        await client.unit_rates(PRODUCT, "C", period_from="2020-09-28")  # type: ignore[arg-type]
    start = datetime(2020, 9, 28, tzinfo=UTC)
    with pytest.raises(ValueError, match="is not after"):
        await client.unit_rates(PRODUCT, "C", period_from=start, period_to=start)
    with pytest.raises(ValueError, match="unknown region 'I'"):
        await client.unit_rates(PRODUCT, "I")
    with pytest.raises(ValueError, match="invalid product code"):
        await client.unit_rates("agile/../x", "C")
    assert octopus.requests == []


# --- unit rates: records ------------------------------------------------------


async def test_invalid_records_are_reported_and_valid_ones_kept(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    good = rate("2020-09-28T21:30:00Z", 7.14)
    results = [
        good,
        rate("2020-09-28T21:00:00Z", math.nan),
        rate("2020-09-28T20:30:00Z", "NaN"),
        rate("2020-09-28T19:00:00Z", 8.0, minutes=60),
        {**rate("2020-09-28T18:30:00Z", 8.0), "valid_from": "2020-09-28T18:30:00"},
        {"valid_from": "2020-09-28T18:00:00Z", "valid_to": "2020-09-28T18:30:00Z"},
        rate("2020-09-28T17:30:00Z", 5000.0),
        rate("2020-09-28T17:00:00Z", True),
        rate("2020-09-28T16:30:00Z", 9.0, payment_method=5),
        42,
        rate("2020-09-28T16:00:00Z", -2.1),
    ]
    octopus.route_json(RATES_PATH, page(results))

    fetch = await client.unit_rates(PRODUCT, "C")

    assert [(s.start.isoformat(), s.value) for s in fetch.slots] == [
        ("2020-09-28T16:00:00+00:00", -2.1),
        ("2020-09-28T21:30:00+00:00", 7.14),
    ]
    assert len(fetch.rejected) == 9
    messages = dict(enumerate(fetch.rejected, start=1))
    assert all(m.startswith(f"{TARIFF} page 1 record ") for m in fetch.rejected)
    assert "record 1: field 'value_inc_vat': nan is not finite" in messages[1]
    assert (
        "record 2: field 'value_inc_vat': expected a number, got str 'NaN'"
        in (messages[2])
    )
    assert "record 3:" in messages[3]
    assert "lasts 1:00:00" in messages[3]
    assert (
        "record 4: field 'valid_from': naive time '2020-09-28T18:30:00'"
        in (messages[4])
    )
    assert "record 5: missing field 'value_inc_vat'" in messages[5]
    assert "record 6:" in messages[6]
    assert "5000.0 p/kWh is outside the plausible range" in messages[6]
    assert (
        "record 7: field 'value_inc_vat': expected a number, got bool" in (messages[7])
    )
    assert "record 8: field 'payment_method'" in messages[8]
    assert "record 9: expected a mapping, got int 42" in messages[9]


async def test_duplicates_and_overlaps_across_pages(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    page1 = page(
        [rate("2020-09-28T21:30:00Z", 10.0), rate("2020-09-28T21:00:00Z", 20.0)],
        octopus.url(RATES_PATH) + "?page=2",
    )
    page2 = page(
        [
            rate("2020-09-28T21:00:00Z", 20.0),  # exact repeat: dropped silently
            rate("2020-09-28T21:30:00Z", 99.0),  # conflicts with page 1: first wins
            rate("2020-09-28T20:15:00Z", 5.0),  # off the grid: overlaps two slots
            rate("2020-09-28T20:30:00Z", 30.0),
        ]
    )
    serve_pages(octopus, RATES_PATH, page1, page2)

    fetch = await client.unit_rates(PRODUCT, "C")

    assert [(s.start.isoformat(), s.value) for s in fetch.slots] == [
        ("2020-09-28T20:30:00+00:00", 30.0),
        ("2020-09-28T21:00:00+00:00", 20.0),
        ("2020-09-28T21:30:00+00:00", 10.0),
    ]
    assert len(fetch.rejected) == 2
    assert fetch.rejected[0].startswith(f"{TARIFF} page 2 record 2:")
    assert "not on a half-hour boundary" in fetch.rejected[0]
    assert fetch.rejected[1] == (
        f"{TARIFF}: conflicting values for slot 2020-09-28T21:30:00+00:00: "
        "kept 10.0, ignored 99.0"
    )


async def test_direct_debit_rates_win_over_non_direct_debit(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    results = [
        rate("2020-09-28T21:30:00Z", 24.0, payment_method="NON_DIRECT_DEBIT"),
        rate("2020-09-28T21:30:00Z", 23.0, payment_method=None),
        rate("2020-09-28T21:00:00Z", 22.0, payment_method="NON_DIRECT_DEBIT"),
        rate("2020-09-28T20:30:00Z", 21.0, payment_method="NON_DIRECT_DEBIT"),
        rate("2020-09-28T20:30:00Z", 20.0, payment_method="DIRECT_DEBIT"),
        rate("2020-09-28T20:00:00Z", 19.0, payment_method="direct_debit"),
        rate("2020-09-28T20:00:00Z", 18.0, payment_method="non_direct_debit"),
    ]
    octopus.route_json(RATES_PATH, page(results))

    fetch = await client.unit_rates(PRODUCT, "C")

    assert fetch.rejected == ()
    assert [s.value for s in fetch.slots] == [19.0, 20.0, 22.0, 23.0]


# --- pagination guards -----------------------------------------------------


@pytest.mark.parametrize(
    ("first_next", "second_next", "values"),
    [
        ("?page=2", "?page=2", [2.0, 1.0]),
        ("?page=2", "?page_size=1500", [2.0, 1.0]),
        ("?page_size=1500", None, [1.0]),
    ],
    ids=["page_2_to_itself", "back_to_page_1", "page_1_to_itself"],
)
async def test_looping_next_link_keeps_the_prices_read(
    octopus: FakeOctopus,
    client: OctopusClient,
    first_next: str,
    second_next: str | None,
    values: list[float],
) -> None:
    """A `next` link to a page already read ends the walk; nothing is dropped."""
    first = page(
        [rate("2020-09-28T21:30:00Z", 1.0)], octopus.url(RATES_PATH) + first_next
    )
    second = page(
        [rate("2020-09-28T21:00:00Z", 2.0)],
        None if second_next is None else octopus.url(RATES_PATH) + second_next,
    )
    serve_pages(octopus, RATES_PATH, first, second)

    fetch = await client.unit_rates(PRODUCT, "C")

    assert len(octopus.requests) == len(values)
    assert [s.value for s in fetch.slots] == values
    assert fetch.rejected == ()
    assert fetch.incomplete is not None
    assert "loops back" in fetch.incomplete


async def test_runaway_next_links_stop_at_the_page_cap_keeping_the_prices(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    """Ever new `next` links stop at MAX_PAGES; the pages read so far are kept."""
    start = datetime(2020, 9, 28, 21, 30, tzinfo=UTC)

    async def handler(request: web.Request) -> web.Response:
        number = int(request.query.get("page", "1"))
        when = start - (number - 1) * timedelta(minutes=30)
        record = rate(when.strftime("%Y-%m-%dT%H:%M:%SZ"), float(number))
        return json_response(page([record], f"?page={number + 1}"))

    octopus.route(RATES_PATH, handler)

    fetch = await client.unit_rates(PRODUCT, "C")

    assert len(octopus.requests) == MAX_PAGES
    assert len(fetch.slots) == MAX_PAGES
    assert fetch.slots[-1].value == 1.0
    assert fetch.incomplete is not None
    assert f"{MAX_PAGES} pages" in fetch.incomplete


async def test_complete_answer_has_no_note(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    serve_pages(octopus, RATES_PATH, page([rate("2020-09-28T21:30:00Z", 1.0)]))

    fetch = await client.unit_rates(PRODUCT, "C")

    assert fetch.incomplete is None


async def test_looping_product_pages_keep_the_products_read(
    octopus: FakeOctopus, client: OctopusClient, caplog: pytest.LogCaptureFixture
) -> None:
    page1 = load_fixture("octopus_products.json")
    page1["next"] = (
        octopus.url(PRODUCTS_PATH) + "?is_variable=true&brand=OCTOPUS_ENERGY"
    )
    serve_pages(octopus, PRODUCTS_PATH, page1)

    products = await client.agile_products()

    assert len(octopus.requests) == 1
    assert products
    assert "loops back" in caplog.text


async def test_relative_next_link_is_followed(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    first = page([rate("2020-09-28T21:30:00Z", 1.0)], "?page=2")
    second = page([rate("2020-09-28T21:00:00Z", 2.0)])
    serve_pages(octopus, RATES_PATH, first, second)

    fetch = await client.unit_rates(PRODUCT, "C")

    assert [s.value for s in fetch.slots] == [2.0, 1.0]
    assert octopus.requests[1].query == {"page": "2"}


@pytest.mark.parametrize(
    ("next_link", "message"),
    [
        ("https://evil.example/v1/steal/", "leaves"),
        (17, "field 'next' is 17, expected a URL or null"),
    ],
)
async def test_bad_next_links_are_refused(
    octopus: FakeOctopus, client: OctopusClient, next_link: object, message: str
) -> None:
    octopus.route_json(RATES_PATH, {"next": next_link, "results": []})

    with pytest.raises(OctopusResponseError, match=message):
        await client.unit_rates(PRODUCT, "C")
    assert len(octopus.requests) == 1


# --- response shape ----------------------------------------------------------


async def test_malformed_json_is_a_response_error(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(text='{"results": [', content_type="application/json")

    octopus.route(RATES_PATH, handler)

    with pytest.raises(OctopusResponseError, match="malformed JSON"):
        await client.unit_rates(PRODUCT, "C")


async def test_non_json_content_type_is_a_response_error(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    octopus.route(RATES_PATH, handler)

    with pytest.raises(OctopusResponseError, match="got content type 'text/html'"):
        await client.unit_rates(PRODUCT, "C")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"count": 0, "next": None}, "field 'results' is missing"),
        ({"results": {"a": 1}}, "field 'results' is dict, expected a list"),
        ([1, 2], "expected a JSON object, got list"),
    ],
)
async def test_wrong_shapes_are_response_errors(
    octopus: FakeOctopus, client: OctopusClient, payload: object, message: str
) -> None:
    octopus.route_json(RATES_PATH, payload)

    with pytest.raises(OctopusResponseError, match=message) as caught:
        await client.unit_rates(PRODUCT, "C")
    assert RATES_PATH in str(caught.value)


async def test_vendor_json_content_type_is_accepted(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(
            text='{"next": null, "results": []}',
            content_type="application/vnd.api+json",
        )

    octopus.route(RATES_PATH, handler)

    assert (await client.unit_rates(PRODUCT, "C")).slots == ()


# --- HTTP errors ---------------------------------------------------------------


async def test_timeout_is_a_connection_error(
    octopus: FakeOctopus, session: aiohttp.ClientSession
) -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.wait_for(octopus.release.wait(), timeout=5)
        return json_response(page([]))

    octopus.route(RATES_PATH, slow)
    client = OctopusClient(session, base_url=octopus.base_url, request_timeout=0.05)

    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(
        OctopusConnectionError, match=r"timeout after 0\.05 s"
    ) as caught:
        await client.unit_rates(PRODUCT, "C")
    assert loop.time() - began < 2
    assert not isinstance(caught.value, OctopusRateLimitError)
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_unreachable_host_is_a_connection_error(
    session: aiohttp.ClientSession,
) -> None:
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base_url = str(server.make_url("/v1"))
    port = server.port
    await server.close()
    client = OctopusClient(session, base_url=base_url)

    with pytest.raises(
        OctopusConnectionError, match=f"cannot connect to host 127.0.0.1:{port}"
    ):
        await client.unit_rates(PRODUCT, "C")


async def test_server_dropping_the_connection_is_a_connection_error(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return json_response(page([]))

    octopus.route(RATES_PATH, drop)

    with pytest.raises(OctopusConnectionError, match="connection error"):
        await client.unit_rates(PRODUCT, "C")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("17", 17.0),
        ("0.5", 0.5),
        ("soon", None),
        ("-3", None),
        ("nan", None),
        (None, None),
        ("86400", 86400.0),
        ("1e15", MAX_RETRY_AFTER),
        ("inf", MAX_RETRY_AFTER),
        ("1e400", MAX_RETRY_AFTER),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("Mon, 99 Foo 2020 99:99:99 GMT", None),
        ("", None),
        (" 17 ", 17.0),
    ],
)
async def test_rate_limit_carries_retry_after(
    octopus: FakeOctopus, client: OctopusClient, header: str | None, expected: float
) -> None:
    headers = {} if header is None else {"Retry-After": header}
    octopus.route_json(
        RATES_PATH, {"detail": "Throttled."}, status=429, headers=headers
    )

    with pytest.raises(OctopusRateLimitError, match="HTTP 429") as caught:
        await client.unit_rates(PRODUCT, "C")
    assert caught.value.retry_after == expected
    assert isinstance(caught.value, OctopusConnectionError)


async def test_rate_limit_retry_after_as_http_date(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    octopus.route_json(
        RATES_PATH,
        {"detail": "Throttled."},
        status=429,
        headers={"Retry-After": format_datetime(later, usegmt=True)},
    )

    with pytest.raises(OctopusRateLimitError) as caught:
        await client.unit_rates(PRODUCT, "C")
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


async def test_rate_limit_retry_after_as_naive_http_date_in_the_past(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    octopus.route_json(
        RATES_PATH,
        {},
        status=429,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 -0000"},
    )

    with pytest.raises(OctopusRateLimitError) as caught:
        await client.unit_rates(PRODUCT, "C")
    assert caught.value.retry_after == 0.0


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_connection_errors(
    octopus: FakeOctopus, client: OctopusClient, status: int
) -> None:
    octopus.route_json(RATES_PATH, {"detail": "oops"}, status=status)

    with pytest.raises(OctopusConnectionError, match=f"server error HTTP {status}"):
        await client.unit_rates(PRODUCT, "C")


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_statuses_are_authentication_errors(
    octopus: FakeOctopus, client: OctopusClient, status: int
) -> None:
    octopus.route_json(
        RATES_PATH,
        {"detail": "Authentication credentials were not provided."},
        status=status,
    )

    with pytest.raises(OctopusAuthenticationError, match=f"HTTP {status}") as caught:
        await client.unit_rates(PRODUCT, "C")
    assert "credentials were not provided" in str(caught.value)


async def test_unknown_product_is_not_found(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    # No route: the fake answers 404 {"detail": "Not found."} like the API.
    with pytest.raises(OctopusNotFoundError, match=r"HTTP 404, not found: Not found\."):
        await client.unit_rates("AGILE-99-99-99", "C")


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, '{"detail": "Invalid period_from."}'), (418, "I'm a teapot")],
)
async def test_other_client_errors_are_plain_octopus_errors(
    octopus: FakeOctopus, client: OctopusClient, status: int, body: str
) -> None:
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(text=body, status=status)

    octopus.route(RATES_PATH, handler)

    with pytest.raises(OctopusError, match=f"unexpected HTTP {status}") as caught:
        await client.unit_rates(PRODUCT, "C")
    assert type(caught.value) is OctopusError
    assert isinstance(caught.value, PriceSourceError)
    assert ("Invalid period_from." if status == 400 else "teapot") in str(caught.value)


async def test_api_key_never_appears_in_messages(
    octopus: FakeOctopus, session: aiohttp.ClientSession
) -> None:
    key = "sk_live_SuperSecret123"
    octopus.route_json(
        "/v1/accounts/A-1234ABCD/", {"detail": f"Key {key} rejected"}, status=400
    )
    client = OctopusClient(session, api_key=key, base_url=octopus.base_url)

    with pytest.raises(OctopusError) as caught:
        await client.validate_account("A-1234ABCD")
    assert key not in str(caught.value)
    assert "Key *** rejected" in str(caught.value)


# --- products ---------------------------------------------------------------


def serve_products(
    octopus: FakeOctopus, *, first: dict[str, Any] | None = None
) -> None:
    page1 = first or load_fixture("octopus_products.json")
    page1["next"] = octopus.url(PRODUCTS_PATH) + (
        "?brand=OCTOPUS_ENERGY&is_variable=true&page=2"
    )
    serve_pages(
        octopus, PRODUCTS_PATH, page1, load_fixture("octopus_products_page2.json")
    )


async def test_agile_products_are_import_only_newest_first(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    serve_products(octopus)

    products = await client.agile_products()

    assert [p.code for p in products] == [
        "AGILE-24-10-01",
        "AGILE-23-12-06",
        "AGILE-FLEX-22-11-25",
    ]
    newest = products[0]
    assert newest.display_name == "Agile Octopus"
    assert newest.full_name == "Agile Octopus October 2024 v1"
    assert newest.direction == "IMPORT"
    assert newest.is_variable is True
    assert newest.brand == "OCTOPUS_ENERGY"
    assert newest.available_from == datetime(2024, 9, 30, 23, 0, tzinfo=UTC)
    assert newest.available_to is None
    assert products[1].available_to == datetime(2024, 9, 30, 23, 0, tzinfo=UTC)
    first, second = octopus.requests
    assert first.query == {"brand": "OCTOPUS_ENERGY", "is_variable": "true"}
    assert second.query == {
        "brand": "OCTOPUS_ENERGY",
        "is_variable": "true",
        "page": "2",
    }


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 1, 1, tzinfo=UTC), "AGILE-24-10-01"),
        (datetime(2024, 6, 1, tzinfo=UTC), "AGILE-23-12-06"),
        (datetime(2023, 1, 1, tzinfo=UTC), "AGILE-FLEX-22-11-25"),
        (datetime(2021, 1, 1, tzinfo=UTC), None),
    ],
)
async def test_current_agile_product(
    octopus: FakeOctopus, client: OctopusClient, now: datetime, expected: str | None
) -> None:
    serve_products(octopus)

    assert await client.current_agile_product(now=now) == expected


async def test_current_agile_product_defaults_to_now(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    serve_products(octopus)

    assert await client.current_agile_product() == "AGILE-24-10-01"


async def test_current_agile_product_skips_withdrawn_and_rejects_naive(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    first = load_fixture("octopus_products.json")
    first["results"][0]["available_to"] = "2025-06-01T00:00:00+01:00"
    first["results"].append(
        {
            **first["results"][0],
            "code": "AGILE-NODATE",
            "available_from": None,
            "available_to": None,
        }
    )
    serve_products(octopus, first=first)

    assert (
        await client.current_agile_product(now=datetime(2026, 1, 1, tzinfo=UTC))
        == "AGILE-NODATE"
    )
    assert (await client.agile_products())[-1].code == "AGILE-NODATE"
    with pytest.raises(ValueError, match="aware"):
        await client.current_agile_product(now=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"display_name": None}, r"\(AGILE-24-10-01\): field 'display_name' is None"),
        ({"is_variable": "yes"}, "field 'is_variable' is 'yes', expected bool"),
        ({"brand": 7}, "field 'brand' is 7, expected str"),
        ({"available_from": "October"}, "unparsable time 'October'"),
        ({"available_to": "2024-10-01T00:00:00"}, "naive time"),
        ({"code": None}, "result 0: field 'code' is None, expected a string"),
    ],
)
async def test_malformed_agile_products_are_response_errors(
    octopus: FakeOctopus, client: OctopusClient, change: dict[str, Any], message: str
) -> None:
    first = load_fixture("octopus_products.json")
    first["results"][0].update(change)
    serve_products(octopus, first=first)

    with pytest.raises(OctopusResponseError, match=message) as caught:
        await client.agile_products()
    assert "GET /v1/products/ page 1 result 0" in str(caught.value)


async def test_non_agile_products_are_not_inspected(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    first = load_fixture("octopus_products.json")
    first["results"][2]["display_name"] = None  # VAR-22-11-01
    first["results"][1]["available_from"] = "garbage"  # AGILE-OUTGOING-19-05-13
    serve_products(octopus, first=first)

    assert len(await client.agile_products()) == 3


async def test_product_result_that_is_not_an_object(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    octopus.route_json(PRODUCTS_PATH, page(["AGILE-24-10-01"]))

    with pytest.raises(OctopusResponseError, match="result 0: expected an object"):
        await client.agile_products()


async def test_agile_import_product_with_export_direction_is_left_out(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    first = load_fixture("octopus_products.json")
    first["results"][0]["direction"] = "EXPORT"
    serve_products(octopus, first=first)

    assert "AGILE-24-10-01" not in [p.code for p in await client.agile_products()]


# --- accounts ---------------------------------------------------------------


async def test_validate_account_sends_basic_auth(
    octopus: FakeOctopus, session: aiohttp.ClientSession
) -> None:
    octopus.route_json("/v1/accounts/A-1234ABCD/", {"number": "A-1234ABCD"})
    client = OctopusClient(session, api_key="sk_test_abc", base_url=octopus.base_url)

    await client.validate_account("A-1234ABCD")

    assert octopus.requests[0].path == "/v1/accounts/A-1234ABCD/"
    assert (
        octopus.requests[0].authorization
        == "Basic " + base64.b64encode(b"sk_test_abc:").decode()
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, OctopusAuthenticationError),
        (403, OctopusAuthenticationError),
        (404, OctopusNotFoundError),
    ],
)
async def test_validate_account_errors(
    octopus: FakeOctopus,
    session: aiohttp.ClientSession,
    status: int,
    error: type[Exception],
) -> None:
    octopus.route_json("/v1/accounts/A-1234ABCD/", {"detail": "nope"}, status=status)
    client = OctopusClient(session, api_key="sk_test_abc", base_url=octopus.base_url)

    with pytest.raises(error) as caught:
        await client.validate_account("A-1234ABCD")
    assert "sk_test_abc" not in str(caught.value)


async def test_validate_account_does_not_follow_redirects(
    octopus: FakeOctopus, session: aiohttp.ClientSession
) -> None:
    async def redirect(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/v1/elsewhere/")

    octopus.route("/v1/accounts/A-1234ABCD/", redirect)
    octopus.route_json("/v1/elsewhere/", {"number": "A-1234ABCD"})
    client = OctopusClient(session, api_key="sk_test_abc", base_url=octopus.base_url)

    with pytest.raises(OctopusError, match="unexpected HTTP 302"):
        await client.validate_account("A-1234ABCD")
    assert [r.path for r in octopus.requests] == ["/v1/accounts/A-1234ABCD/"]


async def test_validate_account_needs_a_key_and_a_sane_number(
    octopus: FakeOctopus, client: OctopusClient
) -> None:
    with pytest.raises(OctopusAuthenticationError, match="an API key is needed"):
        await client.validate_account("A-1234ABCD")
    with pytest.raises(ValueError, match="invalid account number"):
        await client.validate_account("A-1234/../../products")
    assert octopus.requests == []


# --- construction and helpers --------------------------------------------------


def test_tariff_code() -> None:
    assert tariff_code("AGILE-24-10-01", "C") == "E-1R-AGILE-24-10-01-C"
    assert tariff_code("AGILE-18-02-21", "P") == "E-1R-AGILE-18-02-21-P"
    for bad in ("I", "O", "c", "", "CC"):
        with pytest.raises(ValueError, match="unknown region"):
            tariff_code("AGILE-24-10-01", bad)
    with pytest.raises(ValueError, match="invalid product code ''"):
        tariff_code("", "C")


async def test_client_rejects_bad_construction(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="request_timeout must be positive"):
        OctopusClient(session, request_timeout=0)
    with pytest.raises(ValueError, match="absolute URL"):
        OctopusClient(session, base_url="/v1")
    assert DEFAULT_BASE_URL == "https://api.octopus.energy/v1"


def test_exception_hierarchy() -> None:
    assert issubclass(OctopusRateLimitError, OctopusConnectionError)
    assert issubclass(OctopusConnectionError, OctopusError)
    assert issubclass(OctopusResponseError, OctopusError)
    assert issubclass(OctopusError, PriceSourceError)
    assert issubclass(InvalidPriceRecord, ValueError)
    assert issubclass(InvalidPriceRecord, PriceSourceError)
    assert OctopusRateLimitError("x").retry_after is None
