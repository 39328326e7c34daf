"""Accepted events as import prices: what the planner sees."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from .models import FlexEvent

type PricedSlot = tuple[datetime, datetime, float | None]
"""(start, end, price p/kWh or None where unknown)."""


def adjust_prices(
    slots: Sequence[PricedSlot], events: Iterable[FlexEvent]
) -> list[float | None]:
    """Return each slot's price with the asks of ``events`` applied.

    Within an ask, a replacement price (free electricity: 0) takes the place
    of the tariff's and the delta is added (a turn-down's reward is an uplift,
    a turn-up's a reduction).  A slot an ask covers in part gets that share:
    price + sum(share x (ask price - price + delta)).  Unknown prices stay
    unknown.
    """
    asks = sorted(
        (ask for event in events for ask in event.asks), key=lambda ask: ask.start
    )
    adjusted: list[float | None] = []
    for start, end, price in slots:
        if price is None:
            adjusted.append(None)
            continue
        length = (end - start).total_seconds()
        value = price
        for ask in asks:
            if ask.start >= end:
                break
            overlap = (min(end, ask.end) - max(start, ask.start)).total_seconds()
            if overlap <= 0:
                continue
            replaced = ask.price if ask.price is not None else price
            value += overlap / length * (replaced - price + ask.price_delta)
        adjusted.append(round(value, 4))
    return adjusted
