"""The main exact solver: dynamic programming over the slots.

State after slot t: how many slots each interruptible load has run, the phase
of each cycle, and the battery SoC.  For each load-progress state only the
non-dominated (SoC, cost) pairs are kept.  This is exact: from a higher SoC the
same decisions import no more in any slot (force_charge draws less, normal
discharges more) and the SoC stays higher, so the future cost is at most
``(s' - s) x N / efficiency`` higher, N being the most negative price still to
come (0 if none).  A pair (s, c) is dropped only when another pair (s' >= s,
c') has c' + N(s' - s)/eff <= c: it can do everything (s, c) can, as cheaply.

Ties (equal cost, equal SoC) keep the path with the smallest tie-break score,
which favours running loads in earlier slots; for the battery, ``normal`` is
preferred to ``charge_only`` and both to a ``force_charge`` that draws nothing.
"""

from collections.abc import Iterator
from dataclasses import dataclass
import itertools

from .bounds import cheapest_sums, relaxed_battery_values
from .eligibility import cycle_starts, run_slots
from .errors import InfeasibleError
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)

TOLERANCE = 1e-9
LIMIT_TOLERANCE_KWH = 1e-9
EXCESS_WEIGHT = 1e6  # pence per kWh above the limit in best-effort mode
_MODES = (BatteryMode.NORMAL, BatteryMode.CHARGE_ONLY, BatteryMode.FORCE_CHARGE)


@dataclass(frozen=True, slots=True)
class _Runner:
    """An interruptible load with a real choice to make."""

    id: str
    kwh: float
    eligible: tuple[bool, ...]
    forced: tuple[bool, ...]
    count: int
    remaining: tuple[int, ...]  # eligible slots in [t, T)
    forced_remaining: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Cycle:
    """A cycle with more than one allowed start."""

    id: str
    profile: tuple[float, ...]
    allowed: tuple[bool, ...]
    last_start: int


@dataclass(slots=True)
class _Entry:
    """One DP state: SoC, cost so far, tie-break score and how it was reached."""

    soc: float
    cost: float
    score: float
    excess: float
    parent: _Entry | None
    on: tuple[bool, ...]
    started: tuple[bool, ...]
    mode: BatteryMode


@dataclass(frozen=True, kw_only=True, slots=True)
class DpResult:
    """Decisions found by the DP, their cost and energy above the limit."""

    decisions: Decisions
    cost: float
    limit_excess_kwh: float


def _prepare(  # noqa: C901, PLR0912
    problem: Problem,
    const: list[float],
    fixed_on: dict[str, tuple[bool, ...]],
    fixed_start: dict[str, int | None],
) -> tuple[list[_Runner], list[_Cycle]]:
    count = len(problem.slots)
    dt = problem.slot_hours
    runners: list[_Runner] = []
    cycles: list[_Cycle] = []
    for load in problem.loads:
        if isinstance(load, InterruptibleLoad):
            run = run_slots(problem, load)
            eligible = [False] * count
            for t in run.eligible:
                eligible[t] = True
            if run.count in {0, len(run.eligible)}:
                on = tuple(eligible) if run.count else (False,) * count
                fixed_on[load.id] = on
                for t, flag in enumerate(on):
                    if flag:
                        const[t] += load.power_kw * dt
                continue
            forced = [False] * count
            for t in run.forced:
                forced[t] = True
            remaining = [0] * (count + 1)
            forced_remaining = [0] * (count + 1)
            for t in range(count - 1, -1, -1):
                remaining[t] = remaining[t + 1] + eligible[t]
                forced_remaining[t] = forced_remaining[t + 1] + forced[t]
            runners.append(
                _Runner(
                    id=load.id,
                    kwh=load.power_kw * dt,
                    eligible=tuple(eligible),
                    forced=tuple(forced),
                    count=run.count,
                    remaining=tuple(remaining),
                    forced_remaining=tuple(forced_remaining),
                )
            )
        elif isinstance(load, CycleLoad):
            allowed = cycle_starts(problem, load).allowed
            if len(allowed) <= 1:
                start = allowed[0] if allowed else None
                fixed_start[load.id] = start
                if start is not None:
                    for i, kwh in enumerate(load.profile_kwh):
                        const[start + i] += kwh
                continue
            mask = [False] * count
            for k in allowed:
                mask[k] = True
            cycles.append(
                _Cycle(
                    id=load.id,
                    profile=load.profile_kwh,
                    allowed=tuple(mask),
                    last_start=max(allowed),
                )
            )
    return runners, cycles


type _Key = tuple[int, ...]
type _Option = tuple[_Key, float, float, tuple[bool, ...], tuple[bool, ...]]


def _options(
    t: int, key: _Key, runners: list[_Runner], cycles: list[_Cycle]
) -> list[_Option]:
    """Load moves from ``key`` in slot t: (new key, kWh, score, on, started)."""
    per_load: list[list[tuple[int, float, float, bool]]] = []
    for i, r in enumerate(runners):
        done = key[i]
        moves: list[tuple[int, float, float, bool]] = []
        left = r.count - done
        if not r.forced[t] and left <= r.remaining[t + 1]:
            moves.append((done, 0.0, 0.0, False))
        if r.eligible[t] and left > 0 and left - 1 >= r.forced_remaining[t + 1]:
            moves.append((done + 1, r.kwh, t + 1.0, True))
        per_load.append(moves)
    base = len(runners)
    for j, c in enumerate(cycles):
        phase = key[base + j]
        length = len(c.profile)
        moves = []
        if phase == 0:
            if c.last_start > t:
                moves.append((0, 0.0, 0.0, False))
            if c.allowed[t]:
                moves.append((1, c.profile[0], t + 1.0, True))
        elif phase < length:
            moves.append((phase + 1, c.profile[phase], 0.0, False))
        else:
            moves.append((phase, 0.0, 0.0, False))
        per_load.append(moves)
    result: list[_Option] = []
    for combo in itertools.product(*per_load):
        new_key = tuple(m[0] for m in combo)
        kwh = sum(m[1] for m in combo)
        score = sum(m[2] for m in combo)
        flags = tuple(m[3] for m in combo)
        result.append((new_key, kwh, score, flags[:base], flags[base:]))
    return result


def _prune(entries: list[_Entry], penalty: float, has_battery: bool) -> list[_Entry]:
    """Keep the non-dominated entries (see the module docstring)."""
    if not has_battery:
        return [min(entries, key=lambda e: (e.cost, e.score))]
    entries.sort(key=lambda e: (-e.soc, e.cost, e.score))
    kept: list[_Entry] = []
    best = float("inf")
    for e in entries:
        value = e.cost + penalty * e.soc
        if value < best - TOLERANCE:
            kept.append(e)
            best = value
    return kept


def _battery_moves(  # noqa: PLR0917
    battery: Battery | None, soc: float, demand: float, dt: float, horizon: int, t: int
) -> Iterator[tuple[BatteryMode, float, float, float]]:
    """(mode, grid kWh, new SoC, score) of each distinct battery action."""
    if battery is None:
        yield BatteryMode.CHARGE_ONLY, 0.0, soc, 0.0
        return
    out = max(0.0, min(battery.discharge_kw * dt, soc - battery.min_soc_kwh, demand))
    yield BatteryMode.NORMAL, -out, soc - out, -(horizon - t)
    if out > 0:
        yield BatteryMode.CHARGE_ONLY, 0.0, soc, 0.0
    room = (battery.capacity_kwh - soc) / battery.efficiency
    draw = max(0.0, min(battery.charge_kw * dt, room))
    if draw > 0:
        new_soc = min(battery.capacity_kwh, soc + draw * battery.efficiency)
        yield BatteryMode.FORCE_CHARGE, draw, new_soc, 2 * t + 1


class _Bounds:
    """Lower bound on the cost to come from a state (see :mod:`.bounds`)."""

    def __init__(  # noqa: C901, PLR0917
        self,
        prices: list[float],
        const: list[float],
        runners: list[_Runner],
        cycles: list[_Cycle],
        battery: Battery | None,
        penalties: list[float],
        dt: float,
    ) -> None:
        count = len(prices)
        self.base = [0.0] * (count + 1)
        for t in range(count - 1, -1, -1):
            self.base[t] = self.base[t + 1] + prices[t] * const[t]
        self.runners = [
            (r.count, r.kwh, cheapest_sums(prices, list(r.eligible), r.count))
            for r in runners
        ]
        self.cycles: list[tuple[int, list[float], list[list[float]]]] = []
        peak = list(const)
        for r in runners:
            for t in range(count):
                if r.eligible[t]:
                    peak[t] += r.kwh
        for c in cycles:
            length = len(c.profile)
            # rest[k][ph]: cost of phases ph.. of a cycle started at k
            rest = [[0.0] * (length + 1) for _ in range(count)]
            best = [float("inf")] * (count + 1)
            for k in range(count - 1, -1, -1):
                best[k] = best[k + 1]
                if k + length <= count:
                    for ph in range(length - 1, -1, -1):
                        rest[k][ph] = rest[k][ph + 1] + c.profile[ph] * prices[k + ph]
                    if c.allowed[k]:
                        best[k] = min(best[k], rest[k][0])
            self.cycles.append((length, best, rest))
            for t in range(count):
                peak[t] += max(c.profile)
        self.battery = battery
        self.penalties = penalties
        self.values = (
            relaxed_battery_values(
                prices,
                peak,
                capacity=battery.capacity_kwh,
                min_soc=battery.min_soc_kwh,
                charge_kwh=battery.charge_kw * dt,
                discharge_kwh=battery.discharge_kw * dt,
                efficiency=battery.efficiency,
            )
            if battery is not None
            else []
        )
        self._keys: dict[tuple[int, _Key], float] = {}

    def loads(self, t: int, key: _Key) -> float:
        """Bound the base load and loads from slot t on, each at its cheapest."""
        cached = self._keys.get((t, key))
        if cached is not None:
            return cached
        total = self.base[t]
        n = len(self.runners)
        for i, (count, kwh, table) in enumerate(self.runners):
            total += kwh * table[t][count - key[i]]
        for j, (length, best, rest) in enumerate(self.cycles):
            phase = key[n + j]
            if phase == 0:
                total += best[t]
            elif phase < length:
                total += rest[t - phase][phase]
        self._keys[(t, key)] = total
        return total

    def battery_cost(self, t: int, soc: float) -> float:
        """Least possible battery cost from slot t on with ``soc``."""
        if self.battery is None:
            return 0.0
        low = self.battery.min_soc_kwh
        if soc < low:
            return self.values[t](low) - self.penalties[t] * (low - soc)
        return self.values[t](soc)


def _search(  # noqa: C901
    problem: Problem,
    const: list[float],
    runners: list[_Runner],
    cycles: list[_Cycle],
    battery: Battery | None,
    *,
    best_effort: bool,
    ceiling: float,
    bounds: _Bounds | None,
) -> _Entry | None:
    """Run the DP; entries whose bound exceeds ``ceiling`` are dropped."""
    count = len(problem.slots)
    dt = problem.slot_hours
    prices = problem.prices
    limit = None if problem.import_limit_kw is None else problem.import_limit_kw * dt
    penalties = [0.0] * (count + 1)
    if battery is not None:
        for t in range(count - 1, -1, -1):
            penalties[t] = max(penalties[t + 1], -prices[t] / battery.efficiency)
    margin = 1e-6 + 1e-9 * abs(ceiling) if ceiling < float("inf") else 0.0
    start_key: _Key = (0,) * (len(runners) + len(cycles))
    soc0 = battery.soc_kwh if battery is not None else 0.0
    root = _Entry(soc0, 0.0, 0.0, 0.0, None, (), (), BatteryMode.CHARGE_ONLY)
    layer: dict[_Key, list[_Entry]] = {start_key: [root]}
    for t in range(count):
        price = prices[t]
        nxt: dict[_Key, list[_Entry]] = {}
        for key, entries in layer.items():
            for new_key, kwh, score, on, started in _options(t, key, runners, cycles):
                demand = const[t] + kwh
                floor = bounds.loads(t + 1, new_key) if bounds is not None else 0.0
                bucket = nxt.setdefault(new_key, [])
                for e in entries:
                    for mode, grid, soc, mode_score in _battery_moves(
                        battery, e.soc, demand, dt, count, t
                    ):
                        net = demand + grid
                        excess = 0.0
                        if limit is not None and net > limit + LIMIT_TOLERANCE_KWH:
                            if not best_effort:
                                continue
                            excess = net - limit
                        cost = e.cost + price * net + EXCESS_WEIGHT * excess
                        if bounds is not None and (
                            cost + floor + bounds.battery_cost(t + 1, soc)
                            > ceiling + margin
                        ):
                            continue
                        bucket.append(
                            _Entry(
                                soc,
                                cost,
                                e.score + score + mode_score,
                                e.excess + excess,
                                e,
                                on,
                                started,
                                mode,
                            )
                        )
        layer = {
            k: _prune(v, penalties[t + 1], battery is not None)
            for k, v in nxt.items()
            if v
        }
        if not layer:
            return None
    return min(
        (e for entries in layer.values() for e in entries),
        key=lambda e: (e.cost, e.score),
    )


def _fixed(
    problem: Problem, const: list[float], runners: list[_Runner], cycles: list[_Cycle]
) -> list[float]:
    """``const`` plus every free load at its own cheapest slots."""
    prices = problem.prices
    loaded = list(const)
    for r in runners:
        forced = [t for t, f in enumerate(r.forced) if f]
        others = sorted(
            (t for t, e in enumerate(r.eligible) if e and not r.forced[t]),
            key=lambda t: (prices[t], t),
        )
        for t in [*forced, *others[: r.count - len(forced)]]:
            loaded[t] += r.kwh
    for c in cycles:
        costs = {
            k: sum(e * prices[k + i] for i, e in enumerate(c.profile))
            for k, ok in enumerate(c.allowed)
            if ok
        }
        k = min(costs, key=lambda k: (costs[k], k))
        for i, e in enumerate(c.profile):
            loaded[k + i] += e
    return loaded


def solve_dp(problem: Problem, *, best_effort: bool = False) -> DpResult:
    """Solve ``problem`` exactly; raise :class:`InfeasibleError` if impossible."""
    count = len(problem.slots)
    const = [kw * problem.slot_hours for kw in problem.base_kw]
    fixed_on: dict[str, tuple[bool, ...]] = {}
    fixed_start: dict[str, int | None] = {}
    runners, cycles = _prepare(problem, const, fixed_on, fixed_start)
    battery = next((b for b in problem.loads if isinstance(b, Battery)), None)
    ceiling = float("inf")
    bounds = None
    if runners or cycles:
        # an upper bound: every load at its own optimum, the battery around them
        guess = _search(
            problem,
            _fixed(problem, const, runners, cycles),
            [],
            [],
            battery,
            best_effort=best_effort,
            ceiling=ceiling,
            bounds=None,
        )
        if guess is not None:
            ceiling = guess.cost
        penalties = [0.0] * (count + 1)
        if battery is not None:
            for t in range(count - 1, -1, -1):
                penalties[t] = max(
                    penalties[t + 1], -problem.prices[t] / battery.efficiency
                )
        bounds = _Bounds(
            problem.prices,
            const,
            runners,
            cycles,
            battery,
            penalties,
            problem.slot_hours,
        )
    best = _search(
        problem,
        const,
        runners,
        cycles,
        battery,
        best_effort=best_effort,
        ceiling=ceiling,
        bounds=bounds,
    )
    if best is None:
        raise InfeasibleError("import_limit_kw", _why(problem))
    return _result(problem, best, runners, cycles, battery, fixed_on, fixed_start)


def _result(  # noqa: PLR0917
    problem: Problem,
    best: _Entry,
    runners: list[_Runner],
    cycles: list[_Cycle],
    battery: Battery | None,
    fixed_on: dict[str, tuple[bool, ...]],
    fixed_start: dict[str, int | None],
) -> DpResult:
    count = len(problem.slots)
    path: list[_Entry] = []
    node: _Entry | None = best
    while node is not None and node.parent is not None:
        path.append(node)
        node = node.parent
    path.reverse()
    on = dict(fixed_on)
    for i, r in enumerate(runners):
        on[r.id] = tuple(e.on[i] for e in path)
    start = dict(fixed_start)
    for j, c in enumerate(cycles):
        start[c.id] = next(t for t, e in enumerate(path) if e.started[j])
    mode = {} if battery is None else {battery.id: tuple(e.mode for e in path)}
    assert len(path) == count  # noqa: S101 - every slot adds one entry
    cost = best.cost - EXCESS_WEIGHT * best.excess
    return DpResult(
        decisions=Decisions(on=on, start=start, mode=mode),
        cost=cost,
        limit_excess_kwh=best.excess,
    )


def _why(problem: Problem) -> str:
    """Explain an infeasible limit, naming a slot or load where possible."""
    limit = problem.import_limit_kw or 0.0
    relief = max(
        (b.discharge_kw for b in problem.loads if isinstance(b, Battery)), default=0.0
    )
    base = problem.base_kw
    for t, kw in enumerate(base):
        if kw - relief > limit:
            when = f"{problem.slots[t].start:%Y-%m-%dT%H:%MZ}"
            return f"{limit:g} kW cannot be met: the base load is {kw:g} kW at {when}"
    for i, load in enumerate(problem.loads):
        if isinstance(load, InterruptibleLoad):
            run = run_slots(problem, load)
            room = sum(
                1 for t in run.eligible if base[t] + load.power_kw - relief <= limit
            )
            if room < run.count:
                return (
                    f"{limit:g} kW cannot be met: loads[{i}] ({load.id}) must run "
                    f"{run.count} slot(s) at {load.power_kw:g} kW but only {room} "
                    "eligible slot(s) have room"
                )
    return f"{limit:g} kW cannot be met by the loads' required slots together"
