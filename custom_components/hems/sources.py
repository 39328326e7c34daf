"""Price sources as the coordinator sees them: one fetch call each."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant

from .const import PUBLISH_TIME
from .price_data import PriceData
from .prices import (
    OctopusClient,
    PriceSlot,
    PriceSourceError,
    RateFetch,
    ReplaySource,
    load_price_history,
    parse_rates_attribute,
)


class PriceSource(Protocol):
    """Something that returns new price records."""

    @property
    def key(self) -> str:
        """Identify the source's prices; cached prices of another key are dropped."""

    async def async_fetch(self, known: Sequence[PriceSlot], now: datetime) -> RateFetch:
        """Return the records available now (may overlap ``known``)."""


@dataclass(kw_only=True)
class OctopusApiSource:
    """The public Octopus REST API, fetching from the first missing half-hour."""

    client: OctopusClient
    product: str
    region: str
    tz: ZoneInfo

    @property
    def key(self) -> str:
        """Return the cache key."""
        return f"octopus:{self.product}:{self.region}"

    async def async_fetch(self, known: Sequence[PriceSlot], now: datetime) -> RateFetch:
        """Fetch the unit rates from the earliest hole in what should be known.

        That is today and, after publication, tomorrow: a record the API
        rejected earlier (or left out) is asked for again, so a correction
        fills the hole.  With no hole, ask from the end of what is known.
        """
        data = PriceData(slots=tuple(known), tz=self.tz)
        start, end = data.expected_span(now)
        if holes := data.missing(start, end):
            period_from = holes[0]
        else:
            period_from = max(start, known[-1].end) if known else start
        return await self.client.unit_rates(
            self.product, self.region, period_from=period_from
        )


@dataclass(kw_only=True)
class EntityRatesSource:
    """Rates attributes of entities of another integration (Octopus Energy)."""

    hass: HomeAssistant
    entity_ids: Sequence[str]

    @property
    def key(self) -> str:
        """Return the cache key."""
        return "entity:" + ",".join(sorted(self.entity_ids))

    async def async_fetch(self, known: Sequence[PriceSlot], now: datetime) -> RateFetch:
        """Read and parse the ``rates`` attribute of every configured entity."""
        del known, now  # the entities always carry their whole days
        slots: list[PriceSlot] = []
        rejected: list[str] = []
        missing: list[str] = []
        for entity_id in self.entity_ids:
            if (state := self.hass.states.get(entity_id)) is None:
                missing.append(entity_id)
                continue
            fetch = parse_rates_attribute(
                state.attributes.get("rates"), entity_id=entity_id
            )
            slots.extend(fetch.slots)
            rejected.extend(fetch.rejected)
        if missing and len(missing) == len(self.entity_ids):
            raise MissingEntitiesError(missing)
        return RateFetch(slots=tuple(slots), rejected=tuple(rejected))


class MissingEntitiesError(PriceSourceError):
    """None of the configured rates entities exists."""

    def __init__(self, entity_ids: Sequence[str]) -> None:
        """Name the missing entities."""
        self.entity_ids = tuple(entity_ids)
        super().__init__("rates entities not found: " + ", ".join(entity_ids))


@dataclass(kw_only=True)
class ReplayFileSource:
    """A recorded price file replayed against the clock (offline demos)."""

    hass: HomeAssistant
    path: Path
    tz: ZoneInfo
    _replay: ReplaySource | None = None

    @property
    def key(self) -> str:
        """Return the cache key."""
        return f"replay:{self.path}"

    async def async_fetch(self, known: Sequence[PriceSlot], now: datetime) -> RateFetch:
        """Return today's (and after publication tomorrow's) replayed prices."""
        del known
        if self._replay is None:
            history = await self.hass.async_add_executor_job(
                load_price_history, self.path
            )
            self._replay = ReplaySource(history, tz=self.tz, publish_time=PUBLISH_TIME)
        return RateFetch(slots=self._replay.slots_known_at(now), rejected=())
