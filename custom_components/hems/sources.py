"""Price sources as the coordinator sees them: one fetch call each."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from .const import LOGGER, PUBLISH_TIME
from .price_data import PriceData, local_day_bounds
from .prices import (
    OCTOPUS_ENERGY_DOMAIN,
    SLOT,
    OctopusClient,
    PriceSlot,
    PriceSourceError,
    RateFetch,
    RatesEntity,
    ReplaySource,
    describe_rates_entity,
    load_price_history,
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
    export: bool = False  # the export price source: only export entities count

    @property
    def key(self) -> str:
        """Return the cache key."""
        return "entity:" + ",".join(sorted(self.entity_ids))

    async def async_fetch(self, known: Sequence[PriceSlot], now: datetime) -> RateFetch:
        """Read and parse the ``rates`` attribute of every configured entity.

        An entity without rates yet (OE's next-day entity before 16:00) gives
        nothing, quietly; an export or gas rates entity (accepted by an older
        hems) is not read, and said so in the rejected messages.
        """
        del known, now  # the entities always carry their whole days
        slots: list[PriceSlot] = []
        rejected: list[str] = []
        missing: list[str] = []
        for entity_id in self.entity_ids:
            if (state := self.hass.states.get(entity_id)) is None:
                missing.append(entity_id)
                continue
            entity = describe_entity(self.hass, state)
            if entity.export != self.export or entity.gas:
                kind = "gas" if entity.gas else "export" if entity.export else "import"
                wanted = "export" if self.export else "import"
                rejected.append(
                    f"{entity_id}: {kind} rates are not {wanted} electricity "
                    "prices; not used (reconfigure hems without it)"
                )
            elif entity.rates is None:
                LOGGER.debug("%s has no rates yet", entity_id)
            else:
                slots.extend(entity.rates.slots)
                rejected.extend(entity.rates.rejected)
        if missing and len(missing) == len(self.entity_ids):
            raise MissingEntitiesError(missing)
        return RateFetch(slots=tuple(slots), rejected=tuple(rejected))


def describe_entity(hass: HomeAssistant, state: State) -> RatesEntity:
    """Tell what a rates entity is, also when its entity id was renamed."""
    entry = er.async_get(hass).async_get(state.entity_id)
    unique_id = (
        entry.unique_id
        if entry is not None and entry.platform == OCTOPUS_ENERGY_DOMAIN
        else None
    )
    return describe_rates_entity(state.entity_id, state.attributes, unique_id=unique_id)


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


@dataclass(kw_only=True)
class FixedRateSource:
    """A fixed rate (e.g. an export tariff) for today and tomorrow."""

    rate: float  # p/kWh
    tz: ZoneInfo

    @property
    def key(self) -> str:
        """Return the cache key."""
        return f"fixed:{self.rate:g}"

    async def async_fetch(self, known: Sequence[PriceSlot], now: datetime) -> RateFetch:
        """Return every half-hour of today and tomorrow (local) at the rate."""
        del known
        today = now.astimezone(self.tz).date()
        start, _ = local_day_bounds(today, self.tz)
        _, end = local_day_bounds(today + timedelta(days=1), self.tz)
        slots = []
        moment = start
        while moment < end:
            slots.append(PriceSlot(start=moment, end=moment + SLOT, value=self.rate))
            moment += SLOT
        return RateFetch(slots=tuple(slots), rejected=())
