"""The flexibility events beside the plan: the ``flex_events`` plan attribute.

Every event that overlaps the plan's horizon or ended within the last day,
with what it asks, what the plan imports in its window and, once measured,
what it delivered.  Every figure follows from the ones beside it:

- ``target_kwh`` = ``target_kw`` x ``hours`` (an import cap for a turn-down,
  a minimum for a turn-up);
- ``asked_kwh``: turn-down baseline - target, turn-up target - baseline,
  floored at 0 (None without a target or a baseline);
- ``planned_import_kwh``: the plan's per-slot ``import_kwh`` summed over the
  window's slots (a slot the window covers in part counts for that share),
  beside the base load (``base_kwh``) and each load (``planned_kwh``) planned
  in them: without PV or export the three add up;
- ``price`` / ``price_delta``: what an accepted event does to the window's
  import prices in the plan (a replacement, e.g. 0 for free electricity; an
  uplift for a turn-down's reward, a reduction for a turn-up's);
- ``delivered_kwh``: turn-down baseline - metered, turn-up metered -
  baseline (so far, while the event runs); ``reward_p`` is the delivered
  energy above zero at ``reward_p_per_kwh``.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from .flex import Direction, FlexEvent
from .flex_manager import FlexRecord
from .prices import SLOT

# Finished events stay beside the plan this long.
SHOW_FINISHED: Final = timedelta(days=1)
_HOURS: Final = timedelta(hours=1)


def target_kw(event: FlexEvent) -> float | None:
    """Return the event's target in kW if every stretch asks the same one."""
    targets = {
        ask.max_import_kw if event.direction is Direction.DOWN else ask.min_import_kw
        for ask in event.asks
    }
    if len(targets) != 1:
        return None
    (target,) = targets
    covered = sum(ask.hours for ask in event.asks)
    return target if abs(covered - event.hours) < 1e-9 else None  # noqa: PLR2004


def asked_kwh(
    direction: Direction, target: float | None, baseline: float | None
) -> float | None:
    """Return the energy an event asks to move against its baseline."""
    if target is None or baseline is None:
        return None
    moved = baseline - target if direction is Direction.DOWN else target - baseline
    return round(max(0.0, moved), 4)


def _same(values: Iterable[float | None]) -> float | None:
    """Return the one value all stretches share, else None."""
    found = set(values)
    return found.pop() if len(found) == 1 else None


def _share(start: datetime, event: FlexEvent) -> float:
    overlap = min(start + SLOT, event.end) - max(start, event.start)
    return max(overlap / SLOT, 0.0)


def _in_window(
    event: FlexEvent, slot_starts: Sequence[datetime], values: Sequence[float]
) -> float | None:
    parts = [
        value * share
        for start, value in zip(slot_starts, values, strict=True)
        if (share := _share(start, event)) > 0
    ]
    return round(sum(parts), 4) if parts else None


def flex_events(
    records: Iterable[FlexRecord],
    *,
    now: datetime,
    slot_starts: Sequence[datetime],
    import_kwh: Sequence[float],
    base_kw: Sequence[float],
    loads_kw: Mapping[str, Sequence[float]],
    baselines: Mapping[str, float | None],
) -> list[dict[str, object]]:
    """Return the events to show beside the plan, earliest first.

    ``base_kw`` is the base load and ``loads_kw`` each load's planned kW per
    slot; ``baselines`` the
    expected baseline kWh of events not yet measured (by event key).
    """
    end = slot_starts[-1] + SLOT if slot_starts else now
    hours = SLOT / _HOURS
    shown = sorted(
        (
            r
            for r in records
            if r.event.end > now - SHOW_FINISHED and r.event.start < max(end, now)
        ),
        key=lambda r: r.event.start,
    )
    out: list[dict[str, object]] = []
    for record in shown:
        event = record.event
        figures = record.delivery
        baseline = (
            figures.baseline_kwh
            if figures is not None and figures.baseline_kwh is not None
            else baselines.get(event.key)
        )
        target = target_kw(event)
        target_kwh = None if target is None else round(target * event.hours, 4)
        reward = event.reward
        loads: dict[str, float] = {}
        for load_id, kws in loads_kw.items():
            used = _in_window(event, slot_starts, [kw * hours for kw in kws])
            if used is not None and abs(used) >= 0.0005:  # noqa: PLR2004
                loads[load_id] = round(used, 3)
        item: dict[str, object] = {
            "id": event.id,
            "key": event.key,
            "source": str(event.source),
            "title": event.title,
            "direction": str(event.direction),
            "start": event.start.isoformat(),
            "end": event.end.isoformat(),
            "status": str(record.response),
            "hours": round(event.hours, 4),
            "target_kw": target,
            "target_kwh": target_kwh,
            "reward_p_per_kwh": (
                round(reward.value_p_per_kwh, 4) if reward is not None else None
            ),
            "baseline_kwh": baseline,
            "asked_kwh": asked_kwh(event.direction, target_kwh, baseline),
            "price": _same(ask.price for ask in event.asks),
            "price_delta": _same(ask.price_delta for ask in event.asks),
            "planned_import_kwh": _in_window(event, slot_starts, import_kwh),
            "base_kwh": _in_window(event, slot_starts, [kw * hours for kw in base_kw]),
            "planned_kwh": loads,
        }
        if reward is not None and reward.points_per_kwh is not None:
            item["points_per_kwh"] = reward.points_per_kwh
        if figures is not None:
            item |= {
                "metered_kwh": figures.metered_kwh,
                "delivered_kwh": figures.delivered_kwh,
                "reward_p": figures.reward_p,
                "points": figures.points,
                "complete": figures.complete,
                "reported": record.reported,
            }
        out.append(item)
    return out
