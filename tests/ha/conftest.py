"""Fixtures for the Home Assistant tests: a fake Octopus API at the HTTP edge."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.hems.const import (
    CONF_PRODUCT,
    CONF_REGION,
    CONF_SOURCE,
    DOMAIN,
)
from tests.conftest import agile_history

API = "https://api.octopus.energy/v1"
PRODUCT = "AGILE-24-10-01"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration from custom_components/."""


@pytest.fixture(autouse=True)
async def uk_time_zone(hass: HomeAssistant) -> None:
    """Run every test in the UK's time zone (GMT/BST)."""
    await hass.config.async_set_time_zone("Europe/London")


def api_record(start: datetime, end: datetime, value: float) -> dict[str, Any]:
    """Return one unit-rate record as the Octopus API serialises it."""
    return {
        "value_exc_vat": round(value / 1.05, 4),
        "value_inc_vat": value,
        "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "payment_method": None,
    }


@dataclass
class FakeOctopus:
    """The Octopus REST API as far as hems uses it, serving real Agile prices.

    Only records starting before ``published_until`` are served, so a test moves
    the publication of tomorrow's prices by moving that time. ``failures`` holds
    responses (a status or an exception) returned, in order, instead of data,
    failing statuses carrying ``retry_after``. ``patches`` changes fields of the
    records starting at a time (e.g. a null price); ``loop_next`` makes every
    page's ``next`` link point back at the page itself.
    """

    published_until: datetime
    page_size_cap: int = 1500
    failures: list[HTTPStatus | Exception | str] = field(default_factory=list)
    rate_requests: list[URL] = field(default_factory=list)
    extra_records: list[dict[str, Any]] = field(default_factory=list)
    retry_after: str = "120"
    patches: dict[datetime, dict[str, Any]] = field(default_factory=dict)
    loop_next: bool = False

    def records(self, period_from: datetime | None) -> list[dict[str, Any]]:
        """Return the published records from ``period_from``, newest first."""
        records = [
            api_record(start, end, value)
            for start, end, value in agile_history()
            if start < self.published_until
            and (period_from is None or start >= period_from)
            and start >= self.published_until - timedelta(days=4)
        ]
        for record in records:
            record.update(
                self.patches.get(datetime.fromisoformat(record["valid_from"]), {})
            )
        records.extend(self.extra_records)
        records.sort(key=lambda record: record["valid_from"], reverse=True)
        return records

    async def handle(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        """Answer one request."""
        if "standard-unit-rates" in url.path:
            self.rate_requests.append(url)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            if isinstance(failure, str):
                return AiohttpClientMockResponse(
                    method,
                    url,
                    text=failure,
                    headers={"Content-Type": "application/json"},
                )
            return AiohttpClientMockResponse(
                method, url, status=failure, headers={"Retry-After": self.retry_after}
            )
        if url.path.endswith("/products/"):
            return self._json(method, url, products_page())
        if "standard-unit-rates" in url.path:
            return self._rates(method, url)
        return AiohttpClientMockResponse(method, url, status=HTTPStatus.NOT_FOUND)

    def _rates(self, method: str, url: URL) -> AiohttpClientMockResponse:
        if not any(
            f"/products/{product['code']}/" in url.path
            for product in products_page()["results"]
        ):
            return AiohttpClientMockResponse(
                method, url, status=HTTPStatus.NOT_FOUND, json={"detail": "Not found."}
            )
        period_from = (
            datetime.fromisoformat(url.query["period_from"])
            if "period_from" in url.query
            else None
        )
        records = self.records(period_from)
        size = min(int(url.query.get("page_size", 100)), self.page_size_cap)
        page = int(url.query.get("page", 1))
        chunk = records[(page - 1) * size : page * size]
        more = page * size < len(records)
        next_link = str(url.update_query(page=page + 1)) if more else None
        return self._json(
            method,
            url,
            {
                "count": len(records),
                "next": str(url) if self.loop_next else next_link,
                "previous": None,
                "results": chunk,
            },
        )

    @staticmethod
    def _json(method: str, url: URL, body: Any) -> AiohttpClientMockResponse:
        return AiohttpClientMockResponse(
            method, url, json=body, headers={"Content-Type": "application/json"}
        )


def products_page() -> dict[str, Any]:
    """Return a /v1/products/ page with old and current Agile products."""

    def product(
        code: str, full_name: str, start: str, end: str | None
    ) -> dict[str, Any]:
        return {
            "code": code,
            "direction": "EXPORT" if "OUTGOING" in code else "IMPORT",
            "full_name": full_name,
            "display_name": "Agile Octopus",
            "description": "",
            "is_variable": True,
            "is_green": True,
            "is_tracker": False,
            "is_prepay": False,
            "is_business": False,
            "is_restricted": False,
            "term": 12,
            "available_from": start,
            "available_to": end,
            "links": [],
            "brand": "OCTOPUS_ENERGY",
        }

    results = [
        product(
            "AGILE-18-02-21",
            "Agile Octopus February 2018",
            "2017-01-01T00:00:00Z",
            "2022-08-31T00:00:00+01:00",
        ),
        product(
            "AGILE-OUTGOING-19-05-13",
            "Agile Outgoing Octopus May 2019",
            "2019-05-13T00:00:00+01:00",
            None,
        ),
        product(
            PRODUCT, "Agile Octopus October 2024 v1", "2024-10-01T00:00:00+01:00", None
        ),
    ]
    return {"count": len(results), "next": None, "previous": None, "results": results}


@pytest.fixture
def octopus(aioclient_mock: AiohttpClientMocker) -> FakeOctopus:
    """Serve the fake Octopus API (prices published up to 2020-09-27 23:00Z)."""
    fake = FakeOctopus(published_until=datetime(2020, 9, 27, 23, tzinfo=UTC))
    aioclient_mock.get(re.compile(re.escape(API) + r"/.*"), side_effect=fake.handle)
    return fake


@pytest.fixture
def octopus_entry() -> MockConfigEntry:
    """Return a config entry for Agile region A from the Octopus API."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Octopus {PRODUCT} (Eastern England)",
        data={CONF_SOURCE: "octopus", CONF_REGION: "A", CONF_PRODUCT: PRODUCT},
        entry_id="01HEMSTESTENTRY",
    )


@pytest.fixture
async def setup_octopus(
    hass: HomeAssistant, octopus: FakeOctopus, octopus_entry: MockConfigEntry
) -> MockConfigEntry:
    """Add and set up the Octopus entry."""
    octopus_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(octopus_entry.entry_id)
    await hass.async_block_till_done()
    return octopus_entry


@pytest.fixture
async def devices(hass: HomeAssistant) -> None:
    """Set up the household's plugs and inverter as helpers in HA."""
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"car": {}, "washer": {}}},
    )
    assert await async_setup_component(
        hass,
        "input_select",
        {
            "input_select": {
                "inverter": {"options": ["Self use", "Hold", "Grid charge"]}
            }
        },
    )
    hass.states.async_set("sensor.battery_soc", "25", {"unit_of_measurement": "%"})
