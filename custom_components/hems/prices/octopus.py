"""Asynchronous client for the public Octopus Energy REST API (v1).

Only what hems needs: the Agile products on sale, their half-hourly unit
rates, and a check that an account number and API key belong together.  The
`aiohttp.ClientSession` is injected and never closed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import logging
import math
import re
from typing import Any, Final

import aiohttp
from yarl import URL

from ._checks import show, to_utc
from .exceptions import (
    InvalidPriceRecord,
    OctopusAuthenticationError,
    OctopusConnectionError,
    OctopusError,
    OctopusNotFoundError,
    OctopusRateLimitError,
    OctopusResponseError,
)
from .models import REGIONS, PriceSlot, Product, RateFetch
from .validation import merge_slots, parse_rate

DEFAULT_BASE_URL: Final = "https://api.octopus.energy/v1"
MAX_PAGES: Final = 50
"""Most pages read through `next` links; the rest of a longer answer is left out."""
MAX_RETRY_AFTER: Final = 86400.0
"""Longest delay (s) a Retry-After header is read as; a later or infinite one is cut."""
UNIT_RATES_PAGE_SIZE: Final = 1500
"""The API's largest page size: 31 days of half-hours fit in one page."""

_LOGGER = logging.getLogger(__name__)
_FAVOURED_PAYMENT_METHOD: Final = "DIRECT_DEBIT"
_PRODUCT_CODE: Final = re.compile(r"[A-Z0-9][A-Z0-9-]*")
_ACCOUNT_NUMBER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_DETAIL_MAX: Final = 200
_HTTP_TOO_MANY_REQUESTS: Final = 429
_HTTP_NOT_FOUND: Final = 404
_HTTP_AUTH: Final = frozenset({401, 403})
_HTTP_SERVER_ERROR: Final = 500
_HTTP_OK_RANGE: Final = range(200, 300)


def _check_product(product: str) -> None:
    if not isinstance(product, str) or not _PRODUCT_CODE.fullmatch(product):
        raise ValueError(
            f"invalid product code {product!r}: expected upper-case letters, "
            "digits and hyphens, e.g. 'AGILE-24-10-01'"
        )


def tariff_code(product: str, region: str) -> str:
    """Return the single-register electricity tariff code of `product` in `region`.

    Raises ValueError for a malformed product code or a region letter that is
    not one of `REGIONS`.
    """
    _check_product(product)
    if region not in REGIONS:
        raise ValueError(
            f"unknown region {region!r}: expected one of {', '.join(REGIONS)}"
        )
    return f"E-1R-{product}-{region}"


def _iso_z(moment: datetime, name: str) -> str:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {moment!r}")
    if moment.utcoffset() is None:
        raise ValueError(f"{name} {moment!r} is naive; pass an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_retry_after(value: str | None) -> float | None:
    """Return the delay of a Retry-After header in seconds, or None.

    Accepts delay-seconds and HTTP dates.  A negative, NaN or unreadable value is
    None; a date in the past is 0; anything above `MAX_RETRY_AFTER` (even
    infinite) is `MAX_RETRY_AFTER`, so the result always fits a `timedelta`.
    """
    if value is None or not (text := value.strip()):
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except TypeError, ValueError, IndexError, OverflowError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
        return min(max(0.0, seconds), MAX_RETRY_AFTER)
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


def _page_key(url: URL) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Return what identifies a page: the URL without fragment, query sorted."""
    return str(url.with_query(None).with_fragment(None)), tuple(
        sorted(url.query.items())
    )


class OctopusClient:
    """Typed client of the Octopus Energy REST API.

    Every request is bounded by `request_timeout` seconds.  Errors are mapped to
    the `OctopusError` family; the API key never appears in a message.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        request_timeout: float = 20.0,
    ) -> None:
        """Use `session` (owned by the caller) to talk to `base_url`."""
        if not request_timeout > 0:
            raise ValueError(f"request_timeout must be positive, got {request_timeout}")
        base = URL(base_url.rstrip("/"))
        if not base.absolute:
            raise ValueError(f"base_url must be an absolute URL, got {base_url!r}")
        self._session = session
        self._api_key = api_key or None
        self._base_url = str(base)
        self._origin = base.origin()
        self._request_timeout = request_timeout

    def _redact(self, text: str) -> str:
        if self._api_key:
            return text.replace(self._api_key, "***")
        return text

    async def _get(
        self,
        url: URL,
        *,
        params: Mapping[str, str] | None = None,
        authenticate: bool = False,
    ) -> dict[str, Any]:
        """GET `url` and return its JSON object, mapping every failure."""
        what = f"GET {url.path}"
        headers = {"Accept": "application/json"}
        if authenticate and self._api_key:
            headers["Authorization"] = aiohttp.encode_basic_auth(self._api_key, "")
        try:
            async with (
                asyncio.timeout(self._request_timeout),
                self._session.get(
                    url,
                    params=params,
                    headers=headers,
                    # Credentials are never carried through a redirect.
                    allow_redirects=not authenticate,
                ) as response,
            ):
                if response.status not in _HTTP_OK_RANGE:
                    detail = await response.text(errors="replace")
                    raise self._status_error(response, what, detail)
                if not (
                    response.content_type == "application/json"
                    or response.content_type.endswith("+json")
                ):
                    raise OctopusResponseError(
                        f"{what}: expected JSON, got content type "
                        f"{response.content_type!r}"
                    )
                body = await response.read()
        except TimeoutError as err:
            raise OctopusConnectionError(
                f"{what}: timeout after {self._request_timeout:g} s"
            ) from err
        except aiohttp.ClientConnectorError as err:
            raise OctopusConnectionError(
                f"{what}: cannot connect to host {err.host}:{err.port}: "
                f"{self._redact(str(err.os_error))}"
            ) from err
        except aiohttp.ClientError as err:
            raise OctopusConnectionError(
                f"{what}: connection error {type(err).__name__}: "
                f"{self._redact(str(err))}"
            ) from err
        try:
            data = json.loads(body)
        except ValueError as err:
            raise OctopusResponseError(f"{what}: malformed JSON: {err}") from err
        if not isinstance(data, dict):
            raise OctopusResponseError(
                f"{what}: expected a JSON object, got {type(data).__name__}"
            )
        return data

    def _status_error(
        self, response: aiohttp.ClientResponse, what: str, body: str
    ) -> OctopusError:
        status = response.status
        detail = body.strip()
        try:
            parsed = json.loads(detail)
        except ValueError:
            pass
        else:
            if isinstance(parsed, dict) and isinstance(parsed.get("detail"), str):
                detail = parsed["detail"]
        detail = self._redact(detail[:_DETAIL_MAX])
        suffix = f": {detail}" if detail else ""
        if status == _HTTP_TOO_MANY_REQUESTS:
            retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            hint = "" if retry_after is None else f", retry after {retry_after:g} s"
            return OctopusRateLimitError(
                f"{what}: rate limited (HTTP 429){hint}", retry_after=retry_after
            )
        if status in _HTTP_AUTH:
            return OctopusAuthenticationError(
                f"{what}: HTTP {status}, the API key is invalid or not allowed "
                f"this resource{suffix}"
            )
        if status == _HTTP_NOT_FOUND:
            return OctopusNotFoundError(f"{what}: HTTP 404, not found{suffix}")
        if status >= _HTTP_SERVER_ERROR:
            return OctopusConnectionError(f"{what}: server error HTTP {status}")
        return OctopusError(f"{what}: unexpected HTTP {status}{suffix}")

    async def _get_pages(
        self, url: URL, params: Mapping[str, str]
    ) -> tuple[list[list[Any]], str | None]:
        """GET a paginated list, following `next` links.

        Return each page's results and, when the walk was cut short, why: a
        `next` link back to a page already read (a loop) or more than
        `MAX_PAGES` pages.  The pages read until then are kept.
        """
        pages: list[list[Any]] = []
        current: URL | None = url.update_query(params)
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        while current is not None:
            if len(pages) == MAX_PAGES:
                return pages, (
                    f"GET {url.path}: stopped after {MAX_PAGES} pages; "
                    "later pages were not read"
                )
            seen.add(_page_key(current))
            data = await self._get(current)
            where = f"GET {url.path} page {len(pages) + 1}"
            if "results" not in data:
                raise OctopusResponseError(f"{where}: field 'results' is missing")
            results = data["results"]
            if not isinstance(results, list):
                raise OctopusResponseError(
                    f"{where}: field 'results' is {type(results).__name__}, "
                    "expected a list"
                )
            pages.append(results)
            current = self._next_url(current, data.get("next"), where)
            if current is not None and _page_key(current) in seen:
                return pages, (
                    f"{where}: field 'next' loops back to a page already read "
                    f"({current.path_qs}); stopped after {len(pages)} pages"
                )
        return pages, None

    def _next_url(self, current: URL, link: object, where: str) -> URL | None:
        if link is None:
            return None
        if not isinstance(link, str):
            raise OctopusResponseError(
                f"{where}: field 'next' is {show(link)}, expected a URL or null"
            )
        target = current.join(URL(link))
        if not target.absolute or target.origin() != self._origin:
            raise OctopusResponseError(
                f"{where}: field 'next' {show(link)} leaves {self._origin}"
            )
        return target

    async def agile_products(self, *, export: bool = False) -> list[Product]:
        """Return the Agile import products on the product list, newest first.

        Export products (direction EXPORT, codes AGILE-OUTGOING-...) are left
        out, or only they are kept with `export`; products without
        `available_from` sort last.
        """
        url = URL(f"{self._base_url}/products/")
        pages, incomplete = await self._get_pages(
            url, {"brand": "OCTOPUS_ENERGY", "is_variable": "true"}
        )
        if incomplete is not None:
            _LOGGER.warning("Product list read in part: %s", incomplete)
        products: list[Product] = []
        for page_number, results in enumerate(pages, start=1):
            for index, item in enumerate(results):
                where = f"GET {url.path} page {page_number} result {index}"
                product = _parse_agile_product(item, where, export=export)
                if product is not None:
                    products.append(product)
        oldest = datetime.min.replace(tzinfo=UTC)
        products.sort(
            key=lambda product: (product.available_from or oldest, product.code),
            reverse=True,
        )
        return products

    async def current_agile_product(
        self, *, now: datetime | None = None, export: bool = False
    ) -> str | None:
        """Return the code of the newest Agile import product on sale at `now`.

        With `export`, the newest Agile Outgoing (export) product instead.
        `now` (aware) defaults to the current time.  None when no Agile
        product is available.
        """
        moment = datetime.now(UTC) if now is None else now
        if moment.utcoffset() is None:
            raise ValueError(f"now must be an aware datetime, got {now!r}")
        for product in await self.agile_products(export=export):
            if product.is_available_at(moment):
                return product.code
        return None

    async def unit_rates(
        self,
        product: str,
        region: str,
        *,
        period_from: datetime | None = None,
        period_to: datetime | None = None,
    ) -> RateFetch:
        """Return the half-hourly unit rates of `product` in `region`.

        Pages are followed to the end; a `next` link loop or more than
        `MAX_PAGES` pages ends the walk with the records read so far and the
        reason in `incomplete`.  Unusable records are reported in `rejected`
        (with page, index and reason) and the rest kept.  When a slot
        is published for several payment methods, the DIRECT_DEBIT (or null)
        rate wins over NON_DIRECT_DEBIT.  Slots are returned ascending.
        """
        tariff = tariff_code(product, region)
        params = {"page_size": str(UNIT_RATES_PAGE_SIZE)}
        if period_from is not None:
            params["period_from"] = _iso_z(period_from, "period_from")
        if period_to is not None:
            params["period_to"] = _iso_z(period_to, "period_to")
        if (
            period_from is not None
            and period_to is not None
            and period_to <= period_from
        ):
            raise ValueError(
                f"period_to {period_to.isoformat()} is not after "
                f"period_from {period_from.isoformat()}"
            )
        url = URL(
            f"{self._base_url}/products/{product}/electricity-tariffs/{tariff}"
            "/standard-unit-rates/"
        )
        rejected: list[str] = []
        parsed: list[tuple[PriceSlot, str | None]] = []
        pages, incomplete = await self._get_pages(url, params)
        for page_number, results in enumerate(pages, 1):
            for index, record in enumerate(results):
                where = f"{tariff} page {page_number} record {index}"
                try:
                    slot = parse_rate(record)
                    method = _payment_method(record)
                except InvalidPriceRecord as err:
                    rejected.append(f"{where}: {err}")
                    continue
                parsed.append((slot, method))
        favoured = {slot.start for slot, method in parsed if _is_favoured(method)}
        kept = (
            slot
            for slot, method in parsed
            if _is_favoured(method) or slot.start not in favoured
        )
        merged = merge_slots((), kept)
        rejected.extend(f"{tariff}: {message}" for message in merged.rejected)
        return RateFetch(merged.slots, tuple(rejected), incomplete)

    async def validate_account(self, account_number: str) -> None:
        """Check that the API key may read `account_number` (e.g. 'A-1234ABCD').

        Raises ValueError for a malformed account number,
        `OctopusAuthenticationError` without an API key or when the API
        rejects it, `OctopusNotFoundError` for an unknown account.
        """
        if not isinstance(account_number, str) or not _ACCOUNT_NUMBER.fullmatch(
            account_number
        ):
            raise ValueError(
                f"invalid account number {account_number!r}: expected letters, "
                "digits and hyphens, e.g. 'A-1234ABCD'"
            )
        if self._api_key is None:
            raise OctopusAuthenticationError(
                f"an API key is needed to read account {account_number}"
            )
        await self._get(
            URL(f"{self._base_url}/accounts/{account_number}/"), authenticate=True
        )


def _is_favoured(payment_method: str | None) -> bool:
    """Return whether a rate's payment method is the one to keep (DD or none)."""
    return payment_method is None or payment_method.upper() == _FAVOURED_PAYMENT_METHOD


def _payment_method(record: Mapping[str, Any]) -> str | None:
    method = record.get("payment_method")
    if method is not None and not isinstance(method, str):
        raise InvalidPriceRecord(
            f"field 'payment_method': expected a string or null, got {show(method)}"
        )
    return method


def _parse_agile_product(
    item: Any, where: str, *, export: bool = False
) -> Product | None:
    """Return `item` as a Product if it is an Agile import product, else None."""
    if not isinstance(item, Mapping):
        raise OctopusResponseError(
            f"{where}: expected an object, got {type(item).__name__}"
        )
    code = item.get("code")
    if not isinstance(code, str):
        raise OctopusResponseError(
            f"{where}: field 'code' is {show(code)}, expected a string"
        )
    if not code.startswith("AGILE") or code.startswith("AGILE-OUTGOING") != export:
        return None
    where = f"{where} ({code})"
    direction = "EXPORT" if export else "IMPORT"
    if _field(item, "direction", str, where) != direction:
        return None
    return Product(
        code=code,
        display_name=_field(item, "display_name", str, where),
        full_name=_field(item, "full_name", str, where),
        direction=direction,
        is_variable=_field(item, "is_variable", bool, where),
        brand=_optional_field(item, "brand", str, where),
        available_from=_time_field(item, "available_from", where),
        available_to=_time_field(item, "available_to", where),
    )


def _field[T](item: Mapping[str, Any], key: str, kind: type[T], where: str) -> T:
    value = item.get(key)
    if not isinstance(value, kind):
        raise OctopusResponseError(
            f"{where}: field {key!r} is {show(value)}, expected {kind.__name__}"
        )
    return value


def _optional_field[T](
    item: Mapping[str, Any], key: str, kind: type[T], where: str
) -> T | None:
    if item.get(key) is None:
        return None
    return _field(item, key, kind, where)


def _time_field(item: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = _optional_field(item, key, str, where)
    if value is None:
        return None
    try:
        return to_utc(value, key)
    except InvalidPriceRecord as err:
        raise OctopusResponseError(f"{where}: {err}") from err
