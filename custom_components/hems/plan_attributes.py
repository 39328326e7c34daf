"""The whole plan as attributes of the plan's cost sensor, for the card.

Per slot: price, export price, grid import and export, curtailed PV, PV
forecast and the batteries' state of charge; per load its plan; and the
breakdown of what is planned from now, whose parts add up to the total.
"""

import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from homeassistant.util import dt as dt_util

from .flex_plan import flex_events
from .load_config import BatteryConfig
from .load_status import load_status
from .plan_totals import Planned, SlotFlows, planned_from, slot_flows
from .prices import SLOT
from .scheduling import Schedule
from .site_options import ForecastSource

if TYPE_CHECKING:
    from .plan_coordinator import HemsPlanCoordinator


def _slots(
    coordinator: HemsPlanCoordinator, schedule: Schedule, flows: SlotFlows
) -> list[dict[str, object]]:
    """Return each planned half-hour: prices, grid flows, PV and SoC."""
    export = coordinator.export_prices.data if coordinator.export_prices else None
    socs = [
        load.soc_kwh for load in schedule.loads.values() if load.soc_kwh is not None
    ]
    slots: list[dict[str, object]] = []
    for index, (start, price) in enumerate(
        zip(schedule.slot_starts, schedule.prices, strict=True)
    ):
        item: dict[str, object] = {
            "start": start.isoformat(),
            "price": None if price is None else round(price, 4),
            "import_kwh": round(flows.import_kwh[index], 4),
            "export_kwh": round(flows.export_kwh[index], 4),
            "curtailed_kwh": round(flows.curtailed_kwh[index], 4),
        }
        planned_export = (
            schedule.export_prices[index] if schedule.export_prices else None
        )
        if planned_export is not None:
            item["export_price"] = round(planned_export, 4)
        elif export is not None and (paid := export.slot_at(start)) is not None:
            item["export_price"] = round(paid.value, 4)
        if schedule.pv_kw:
            item["pv_kw"] = schedule.pv_kw[index]
        for name, column in (
            ("max_import_kw", schedule.import_caps_kw),
            ("min_import_kw", schedule.import_targets_kw),
        ):
            if column and column[index] is not None:
                item[name] = column[index]
        if socs:
            item["soc_kwh"] = round(sum(soc[index] for soc in socs), 4)
        slots.append(item)
    return slots


def _solar(coordinator: HemsPlanCoordinator, schedule: Schedule) -> dict[str, object]:
    """Say where the solar forecast came from, or that none is set."""
    reading = coordinator.config_entry.runtime_data.solar.data
    source = reading.source if reading is not None else ForecastSource.NONE
    used = list(reading.used) if reading is not None else []
    if source is ForecastSource.NONE:
        summary = "No solar forecast is set: planned without PV."
    elif not schedule.pv_kw:
        summary = "No solar forecast for the planned half-hours: planned without PV."
    else:
        summary = "Solar forecast from " + (", ".join(used) or source.value) + "."
    return {
        "source": source.value,
        "used": used,
        "problems": list(reading.problems) if reading is not None else [],
        "planned_with_pv": bool(schedule.pv_kw),
        "summary": summary,
        "sun": _local_times(schedule.sun, schedule, coordinator.tz),
    }


def _local_times(text: str, schedule: Schedule, tz: ZoneInfo) -> str:
    """Return the planner's words with its UTC times (HH:MM) in local time.

    Each time is the first planned half-hour (or end) at that UTC time of day.
    """
    local: dict[str, str] = {}
    for start in (*schedule.slot_starts, *(s + SLOT for s in schedule.slot_starts)):
        local.setdefault(f"{start:%H:%M}", f"{start.astimezone(tz):%H:%M}")
    return _CLOCK.sub(lambda match: local.get(match[0], match[0]), text)


_CLOCK = re.compile(r"\b\d{2}:\d{2}\b")


def _loads(coordinator: HemsPlanCoordinator, schedule: Schedule) -> list[object]:
    loads: list[object] = []
    for load in coordinator.loads.values():
        plan = schedule.loads.get(load.id)
        if plan is None:
            continue
        item: dict[str, object] = {
            "id": load.id,
            "name": load.name,
            "kind": load.kind.value,
            "status": load_status(load, schedule, coordinator.tz, dt_util.utcnow()),
            "on": [int(on) for on in plan.on],
            "kw": list(plan.kw),
            "energy_kwh": plan.energy_kwh,
            "cost": plan.cost,
        }
        if isinstance(load, BatteryConfig):
            # A power-driven battery is sent ``kw`` as its setpoint.
            item["control"] = load.control.value
            item["capacity_kwh"] = load.capacity_kwh
        if plan.modes is not None:
            item["modes"] = list(plan.modes)
        if plan.soc_kwh is not None:
            item["soc_kwh"] = list(plan.soc_kwh)
        if plan.cycle_costs is not None:
            item["cycle_costs"] = list(plan.cycle_costs)
            item["max_cycle_cost"] = getattr(load, "max_cycle_cost", None)
            item["starts"] = [
                window.cycle_start.isoformat()
                for window in plan.windows
                if window.cycle_start is not None
            ]
        loads.append(item)
    return loads


def gbp(part: Planned) -> dict[str, float]:
    """Return a part's energy (kWh) and cost in pounds."""
    return {"energy_kwh": part.energy_kwh, "cost": round(part.cost / 100, 4)}


def _flex_events(
    coordinator: HemsPlanCoordinator, schedule: Schedule, flows: SlotFlows
) -> list[dict[str, object]]:
    """Return the flexibility events beside the plan (flex_plan.py)."""
    flex = coordinator.config_entry.runtime_data.flex
    return flex_events(
        flex.records.values(),
        now=dt_util.utcnow(),
        slot_starts=schedule.slot_starts,
        import_kwh=flows.import_kwh,
        base_kw=schedule.base_load(),
        loads_kw={
            load_id: plan.kw for load_id, plan in schedule.loads.items() if plan.kw
        },
        baselines=flex.baselines,
    )


def plan_attributes(coordinator: HemsPlanCoordinator) -> dict[str, object]:
    """Return the whole plan, compactly, for the plan card and automations."""
    schedule = coordinator.data
    if schedule is None:
        return {}
    planned = planned_from(schedule, dt_util.utcnow())
    flows = slot_flows(schedule)
    return {
        "planned": {
            "loads": {load_id: gbp(part) for load_id, part in planned.loads.items()},
            "controlled_loads": gbp(planned.controlled),
            "base_load": gbp(planned.base_load),
            "battery": gbp(planned.battery),
            "solar": gbp(planned.solar),
            "export": gbp(planned.export),
            "grid_import": gbp(planned.grid_import),
            "total": gbp(planned.total),
        },
        # Today's half-hours that passed, as planned (the whole house).
        "today": {name: gbp(part) for name, part in coordinator.today_parts().items()},
        "created": schedule.created.isoformat(),
        "slot_minutes": 30,
        "base_load_kw": schedule.base_load_kw,
        "import_limit_kw": schedule.import_limit_kw,
        "export_limit_kw": schedule.export_limit_kw,
        "slots": _slots(coordinator, schedule, flows),
        # Per slot: the base load planned and the solar forecast (kW).
        "base_kw": list(schedule.base_load()),
        "pv_kw": list(
            schedule.pv_kw
            or coordinator.config_entry.runtime_data.solar.pv_kw(schedule.slot_starts)
        ),
        "solar": _solar(coordinator, schedule),
        "loads": _loads(coordinator, schedule),
        "notes": list(schedule.notes),
        "flex_events": _flex_events(coordinator, schedule, flows),
        # Energy the plan stays above the events' caps / below their minimums.
        "import_excess_kwh": schedule.import_excess_kwh,
        "import_shortfall_kwh": schedule.import_shortfall_kwh,
    }
