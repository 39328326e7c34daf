"""Accepted events as per-slot import caps and targets: what the planner sees.

An ask's ``max_import_kw`` (turn-down) caps a slot's import, its
``min_import_kw`` (turn-up) is a target for it.  A slot an ask covers only in
part gets the share that keeps the energy right: a target of share x kW (the
rest of the slot asks nothing), a cap of share x kW + the rest at the site's
limit (no cap at all without a site limit: the uncovered part may draw
anything).  Caps of several asks in one slot: the tightest; targets add up
(asks of one event do not overlap, nor do accepted events).  A target never
exceeds the slot's cap or the site's limit (the planner would refuse it).
"""

from collections.abc import Iterable
from datetime import datetime
import math

from .models import FlexEvent

type Targets = tuple[float | None, float | None]
"""(most import kW, least import kW) of one slot; None where nothing is asked."""


def slot_targets(
    start: datetime,
    end: datetime,
    events: Iterable[FlexEvent],
    site_limit_kw: float | None = None,
) -> Targets:
    """Return the cap and the target the asks of ``events`` put on [start, end)."""
    length = (end - start).total_seconds()
    cap = math.inf
    floor = 0.0
    asked_floor = False
    for event in events:
        for ask in event.asks:
            overlap = (min(end, ask.end) - max(start, ask.start)).total_seconds()
            if overlap <= 0:
                continue
            share = min(overlap / length, 1.0)
            if ask.max_import_kw is not None:
                rest = math.inf if site_limit_kw is None else site_limit_kw
                whole = share >= 1.0
                cap = min(
                    cap,
                    ask.max_import_kw
                    if whole
                    else share * ask.max_import_kw + (1 - share) * rest,
                )
            if ask.min_import_kw is not None:
                floor += share * ask.min_import_kw
                asked_floor = True
    most = None if math.isinf(cap) else round(cap, 4)
    if not asked_floor:
        return most, None
    top = min(x for x in (cap, site_limit_kw, math.inf) if x is not None)
    return most, round(min(floor, top), 4)
