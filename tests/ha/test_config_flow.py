"""The config, reconfigure and options flows, every step and error."""

from datetime import UTC, datetime, timedelta
import gzip
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.hems.const import (
    CONF_ACCOUNT_NUMBER,
    CONF_API_KEY,
    CONF_GAS_PRICE,
    CONF_PRODUCT,
    CONF_RATES_ENTITIES,
    CONF_REGION,
    CONF_REPLAY_FILE,
    CONF_SOURCE,
    DOMAIN,
)
from tests.conftest import agile_csv_text
from tests.octopus_energy import (
    EXPORT_MPAN,
    before_first_event,
    event_attributes,
    rate_items,
    rates_entity_id,
    rates_unique_id,
)

from .conftest import API, PRODUCT, FakeOctopus
from .helpers import real_prices

NOW = datetime(2020, 9, 27, 9, 10, tzinfo=UTC)

OE_CURRENT = rates_entity_id("current")
OE_NEXT = rates_entity_id("next")


def oe_current_day(**kwargs: Any) -> dict[str, Any]:
    """Return the current-day entity's attributes on 27 September 2020."""
    start = datetime(2020, 9, 26, 23, tzinfo=UTC)
    prices = real_prices(start, start + timedelta(days=1))
    return event_attributes("current", rate_items(start, prices), **kwargs)


OCTOPUS_RATES = [
    {
        "start": "2020-09-27T09:00:00Z",
        "end": "2020-09-27T09:30:00Z",
        "value_inc_vat": 0.1523,
        "is_capped": False,
    },
    {
        "start": "2020-09-27T09:30:00Z",
        "end": "2020-09-27T10:00:00Z",
        "value_inc_vat": 0.1498,
        "is_capped": False,
    },
]


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    """Test at a time the recorded prices cover."""
    freezer.move_to(NOW)


async def start_source(hass: HomeAssistant, source: str) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["octopus", "entity", "replay"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": source}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == source
    return result["flow_id"]


async def test_octopus_discovers_product_and_creates_entry(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """The Agile import product current at the time is offered."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "octopus"}
    )
    schema = result["data_schema"].schema
    product_default = next(key for key in schema if key == CONF_PRODUCT).default()
    # In September 2020 that was the first Agile product, not today's.
    assert product_default == "AGILE-18-02-21"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "A", CONF_PRODUCT: " agile-24-10-01 "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Octopus AGILE-24-10-01 (Eastern England)"
    assert result["data"] == {
        CONF_SOURCE: "octopus",
        CONF_REGION: "A",
        CONF_PRODUCT: PRODUCT,
    }


async def test_octopus_discovery_failure_leaves_product_empty(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """If the product list cannot be read the user types the code."""
    octopus.failures = [HTTPStatus.INTERNAL_SERVER_ERROR]
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "octopus"}
    )
    schema = result["data_schema"].schema
    assert next(key for key in schema if key == CONF_PRODUCT).default() == ""


@pytest.mark.parametrize(
    ("failure", "field", "error"),
    [
        (ClientError("no route"), "base", "cannot_connect"),
        (TimeoutError(), "base", "cannot_connect"),
        (HTTPStatus.BAD_REQUEST, "base", "api_error"),
        (
            '{"count": 0, "next": null, "previous": null, "results": []}',
            "base",
            "no_prices",
        ),
    ],
    ids=["connection", "timeout", "bad_request", "empty"],
)
async def test_octopus_errors_then_recover(
    hass: HomeAssistant,
    octopus: FakeOctopus,
    failure: HTTPStatus | Exception | str,
    field: str,
    error: str,
) -> None:
    """Each API failure gives its error; fixing it creates the entry."""
    flow_id = await start_source(hass, "octopus")
    octopus.failures = [failure]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_REGION: "A", CONF_PRODUCT: PRODUCT}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_REGION: "A", CONF_PRODUCT: PRODUCT}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_octopus_unknown_product(
    hass: HomeAssistant, octopus: FakeOctopus
) -> None:
    """A product with no tariff in the region is a field error naming it."""
    flow_id = await start_source(hass, "octopus")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_REGION: "C", CONF_PRODUCT: "AGILE-NOPE"}
    )
    assert result["errors"] == {CONF_PRODUCT: "unknown_product"}
    assert result["description_placeholders"] == {"product": "AGILE-NOPE"}


async def test_entity_source_checks_the_entities(hass: HomeAssistant) -> None:
    """An entity that is missing or has no usable rates is named in the error."""
    hass.states.async_set("event.other", "unknown", {"rates": "none"})
    hass.states.async_set("sensor.prices", "unknown", {"rates": OCTOPUS_RATES})
    flow_id = await start_source(hass, "entity")

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_RATES_ENTITIES: ["event.missing_rates"]}
    )
    assert result["errors"] == {CONF_RATES_ENTITIES: "entity_not_found"}
    assert result["description_placeholders"] == {"entity": "event.missing_rates"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_RATES_ENTITIES: ["event.other"]}
    )
    assert result["errors"] == {CONF_RATES_ENTITIES: "no_rates"}
    assert "event.other" in result["description_placeholders"]["error"]

    # An entity of another integration with usable rates is fine on its own.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_RATES_ENTITIES: ["sensor.prices"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("moment", "next_day"),
    [
        (datetime(2020, 9, 27, 9, 10, tzinfo=UTC), before_first_event("next")),
        (datetime(2020, 9, 26, 23, 5, tzinfo=UTC), event_attributes("next", [])),
    ],
    ids=["before_the_first_event", "after_midnight"],
)
async def test_entity_source_before_tomorrow_is_published(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    moment: datetime,
    next_day: dict[str, Any],
) -> None:
    """From midnight to about 16:00 the next-day entity has no rates: accepted."""
    freezer.move_to(moment)
    hass.states.async_set(OE_CURRENT, "2020-09-26T23:01:00+00:00", oe_current_day())
    hass.states.async_set(OE_NEXT, "unknown", next_day)
    flow_id = await start_source(hass, "entity")

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_RATES_ENTITIES: [OE_CURRENT, OE_NEXT]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_SOURCE: "entity",
        CONF_RATES_ENTITIES: [OE_CURRENT, OE_NEXT],
    }


async def test_entity_source_refuses_what_makes_no_pair(hass: HomeAssistant) -> None:
    """Export, gas, other meters' or lone entities are refused, saying why."""
    export = rates_entity_id("current", mpan=EXPORT_MPAN, export=True)
    other_meter = rates_entity_id("next", mpan="1900000000001")
    gas = "event.octopus_energy_gas_e6s1_9000000_current_day_rates"
    hass.states.async_set(OE_CURRENT, "unknown", oe_current_day())
    hass.states.async_set(OE_NEXT, "unknown", before_first_event("next"))
    hass.states.async_set(export, "unknown", oe_current_day(mpan=EXPORT_MPAN))
    hass.states.async_set(other_meter, "unknown", before_first_event("next"))
    hass.states.async_set(gas, "unknown", before_first_event("current"))
    # The export meter's next-day entity, renamed: its unique id tells.
    renamed = er.async_get(hass).async_get_or_create(
        "event",
        "octopus_energy",
        rates_unique_id(rates_entity_id("next", mpan=EXPORT_MPAN, export=True)),
        suggested_object_id="tomorrow_prices",
    )
    hass.states.async_set(renamed.entity_id, "unknown", before_first_event("next"))
    flow_id = await start_source(hass, "entity")

    cases = [
        ([OE_CURRENT, export], "export_rates", {"entity": export}),
        (
            [OE_CURRENT, renamed.entity_id],
            "export_rates",
            {"entity": "event.tomorrow_prices"},
        ),
        ([gas], "gas_rates", {"entity": gas}),
        ([OE_CURRENT], "pair_incomplete", {"entity": OE_CURRENT, "other": OE_NEXT}),
        ([OE_NEXT], "pair_incomplete", {"entity": OE_NEXT, "other": OE_CURRENT}),
        (
            [OE_CURRENT, other_meter],
            "different_meters",
            {"entity": OE_CURRENT, "other": other_meter},
        ),
    ]
    for entities, error, placeholders in cases:
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_RATES_ENTITIES: entities}
        )
        assert result["errors"] == {CONF_RATES_ENTITIES: error}, entities
        assert result["description_placeholders"] == placeholders

    # Today's rates not there yet (the other integration just started).
    hass.states.async_set(OE_CURRENT, "unknown", before_first_event("current"))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_RATES_ENTITIES: [OE_CURRENT, OE_NEXT]}
    )
    assert result["errors"] == {CONF_RATES_ENTITIES: "no_rates_yet"}
    assert result["description_placeholders"] == {"entity": OE_CURRENT}

    hass.states.async_set(OE_CURRENT, "unknown", oe_current_day())
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_RATES_ENTITIES: [OE_CURRENT, OE_NEXT]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_replay_source(hass: HomeAssistant, tmp_path: Path) -> None:
    """A recorded price file is checked before it is accepted."""
    flow_id = await start_source(hass, "replay")
    missing = tmp_path / "missing.csv"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_REPLAY_FILE: str(missing)}
    )
    assert result["errors"] == {CONF_REPLAY_FILE: "file_not_found"}

    bad = tmp_path / "bad.csv"
    bad.write_text("when,price\n2020-01-01,5\n")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_REPLAY_FILE: str(bad)}
    )
    assert result["errors"] == {CONF_REPLAY_FILE: "invalid_file"}
    assert "bad.csv" in result["description_placeholders"]["error"]

    good = tmp_path / "agile.csv.gz"
    lines = agile_csv_text().splitlines(keepends=True)[:2000]
    good.write_bytes(gzip.compress("".join(lines).encode()))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_REPLAY_FILE: str(good)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Recorded prices (agile.csv.gz)"


async def test_single_instance(hass: HomeAssistant) -> None:
    """A household has one hems entry."""
    MockConfigEntry(domain=DOMAIN, data={CONF_SOURCE: "replay"}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_reconfigure_octopus(
    hass: HomeAssistant, octopus: FakeOctopus, octopus_entry: MockConfigEntry
) -> None:
    """The region and product can be changed, with the same checks as setup."""
    octopus_entry.add_to_hass(hass)
    result = await octopus_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"

    octopus.failures = [ClientError("down")]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "C", CONF_PRODUCT: PRODUCT}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "C", CONF_PRODUCT: PRODUCT}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert octopus_entry.data[CONF_REGION] == "C"
    assert octopus_entry.title == "Octopus AGILE-24-10-01 (London)"
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(octopus_entry.entry_id)


async def test_reconfigure_entity_source(hass: HomeAssistant) -> None:
    """An entity-source entry is reconfigured with the entity form."""
    hass.states.async_set("event.next_day_rates", "unknown", {"rates": OCTOPUS_RATES})
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_SOURCE: "entity", CONF_RATES_ENTITIES: ["event.gone"]},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_RATES_ENTITIES: ["event.next_day_rates"]}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_RATES_ENTITIES] == ["event.next_day_rates"]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_options_flow(
    hass: HomeAssistant,
    octopus_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Gas price and an optional, validated Octopus account."""
    octopus_entry.add_to_hass(hass)
    account_url = f"{API}/accounts/A-1234ABCD/"
    aioclient_mock.get(f"{API}/accounts/A-0000DEAD/", status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(f"{API}/accounts/A-0000BAD0/", status=HTTPStatus.UNAUTHORIZED)
    aioclient_mock.get(f"{API}/accounts/A-00000500/", exc=ClientError("down"))
    aioclient_mock.get(
        account_url,
        json={"number": "A-1234ABCD", "properties": []},
        headers={"Content-Type": "application/json"},
    )

    result = await hass.config_entries.options.async_init(octopus_entry.entry_id)
    assert result["step_id"] == "init"
    flow_id = result["flow_id"]

    async def submit(data: dict[str, object]) -> dict[str, object]:
        return dict(await hass.config_entries.options.async_configure(flow_id, data))

    result = await submit({CONF_API_KEY: "sk_live_abc"})
    assert result["errors"] == {CONF_ACCOUNT_NUMBER: "account_required"}
    result = await submit({CONF_ACCOUNT_NUMBER: "A-1234ABCD"})
    assert result["errors"] == {CONF_API_KEY: "api_key_required"}
    result = await submit(
        {CONF_API_KEY: "sk_live_abc", CONF_ACCOUNT_NUMBER: "a-0000dead"}
    )
    assert result["errors"] == {CONF_ACCOUNT_NUMBER: "account_not_found"}
    result = await submit({CONF_API_KEY: "sk_wrong", CONF_ACCOUNT_NUMBER: "A-0000BAD0"})
    assert result["errors"] == {CONF_API_KEY: "invalid_auth"}
    result = await submit(
        {CONF_API_KEY: "sk_live_abc", CONF_ACCOUNT_NUMBER: "A-00000500"}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    result = await submit(
        {
            CONF_GAS_PRICE: 6.89,
            CONF_API_KEY: "sk_live_abc",
            CONF_ACCOUNT_NUMBER: "A-1234ABCD",
        }
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert octopus_entry.options == {
        CONF_GAS_PRICE: 6.89,
        CONF_API_KEY: "sk_live_abc",
        CONF_ACCOUNT_NUMBER: "A-1234ABCD",
    }
    # The key went as HTTP basic auth to the account endpoint.
    _, url, _, _ = aioclient_mock.mock_calls[-1]
    assert str(url) == account_url


async def test_options_gas_price_only(
    hass: HomeAssistant, octopus_entry: MockConfigEntry
) -> None:
    """Without an account nothing is called and only the gas price is stored."""
    octopus_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(octopus_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_GAS_PRICE: 7.1, CONF_API_KEY: "", CONF_ACCOUNT_NUMBER: ""},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert octopus_entry.options == {CONF_GAS_PRICE: 7.1}
