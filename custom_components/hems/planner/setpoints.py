"""A mode plan as power setpoints: how a power-controlled battery is first planned.

Every mode is a setpoint: in a priced slot the setpoint (c - d) / h of the
mode's flows (:func:`.simulate.battery_flows`) makes the battery do exactly
what the mode does (c is within the charge rate and room, d within the
discharge rate, the SoC above the minimum and demand + export limit, the caps
of :func:`.simulate.power_flows`); without a price it is 0 (the battery holds).
So the best plan by modes is a plan under power control, and a start for the
exact solver.
"""

from .models import Battery, BatteryMode, Decisions, Problem
from .simulate import battery_flows, load_energy, stored


def as_setpoints(problem: Problem, decisions: Decisions) -> Decisions:
    """Return ``decisions`` with each power battery's modes turned into setpoints."""
    power = dict(decisions.power)
    batteries = [
        b
        for b in problem.loads
        if isinstance(b, Battery) and b.control == "power" and b.id not in power
    ]
    if not batteries:
        return decisions
    dt = problem.slot_hours
    demand = [kw * dt for kw in problem.base_kw]
    for energy in load_energy(problem, decisions).values():
        for t, kwh in enumerate(energy):
            demand[t] += kwh
    pv = problem.pv_kwh
    cap = problem.export_cap_kwh
    priced = problem.priced
    for battery in batteries:
        soc = battery.soc_kwh
        row: list[float] = []
        for t, raw in enumerate(decisions.mode[battery.id]):
            if not priced[t]:
                row.append(0.0)
                continue
            c, d = battery_flows(
                battery, BatteryMode(raw), soc, demand[t], dt, pv[t], cap
            )
            soc = stored(battery, soc, c, d)
            row.append((c - d) / dt)
        power[battery.id] = tuple(row)
    modes = {k: v for k, v in decisions.mode.items() if k not in power}
    return Decisions(on=decisions.on, start=decisions.start, mode=modes, power=power)
