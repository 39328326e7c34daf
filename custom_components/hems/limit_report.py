"""Which loads, in which half-hours, keep the plan above the import limit (pure)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .load_config import LoadConfig
from .prices import SLOT
from .scheduling import Schedule

LIMIT_TOLERANCE_KW = 1e-6


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitReport:
    """The half-hours above the limit, and what runs in them."""

    when: str  # "Mon 01:00-02:30, Mon 05:00-05:30"
    loads: str  # "Car (7 kW, window 18:00-07:00), base load 0.4 kW"
    worst_kw: float  # the largest excess in one half-hour


def _span(first: datetime, last: datetime, tz: ZoneInfo) -> str:
    start = first.astimezone(tz)
    end = (last + SLOT).astimezone(tz)
    return f"{start:%a %H:%M}-{end:%H:%M}"


def limit_report(
    schedule: Schedule,
    net_import_kw: Sequence[float],
    loads: Mapping[str, LoadConfig],
    tz: ZoneInfo,
) -> LimitReport | None:
    """Name the half-hours where the plan imports above the limit and their loads."""
    limit = schedule.import_limit_kw
    if limit is None:
        return None
    over = [
        index
        for index, kw in enumerate(net_import_kw)
        if kw > limit + LIMIT_TOLERANCE_KW
    ]
    if not over:
        return None
    spans: list[tuple[int, int]] = []
    for index in over:
        if spans and spans[-1][1] == index - 1:
            spans[-1] = (spans[-1][0], index)
        else:
            spans.append((index, index))
    starts = schedule.slot_starts
    when = ", ".join(_span(starts[a], starts[b], tz) for a, b in spans)
    names = []
    for load_id, plan in schedule.loads.items():
        kws = [plan.kw[index] for index in over if index < len(plan.kw)]
        top = max(kws, default=0.0)
        if top <= 0 or load_id not in loads:
            continue
        load = loads[load_id]
        window = getattr(load, "window", None)
        shown = (
            f", window {window.start:%H:%M}-{window.end:%H:%M}"
            if window is not None
            else ""
        )
        names.append(f"{load.name} ({top:g} kW{shown})")
    base = schedule.base_load()
    if top_base := max((base[index] for index in over), default=0.0):
        names.append(f"base load {top_base:g} kW")
    worst = max(net_import_kw[index] for index in over) - limit
    return LimitReport(when=when, loads=", ".join(names), worst_kw=round(worst, 3))
