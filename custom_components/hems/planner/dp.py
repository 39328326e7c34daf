"""The exact solver: branch and bound over the slots (a DP with dominance).

State after slot t: how far each free load has got (slots run by an
interruptible load, phase of a cycle: the *key*) and the battery SoC.  For each
key only the non-dominated (SoC, cost) pairs are kept.  This is exact: from a
higher SoC the same decisions import no more in any slot (force_charge draws
less, normal discharges more) and the SoC stays higher, so the future cost is at
most ``(s' - s) x N / efficiency`` higher, N being the most negative price
still to come (0 if none).  A pair (s, c) is dropped only when another pair
(s' >= s, c') has c' + N(s' - s)/eff <= c: it can do everything (s, c) can, as
cheaply.  (In best-effort mode the energy above the limit is priced at
``EXCESS_WEIGHT``; a higher SoC also imports no more, so the same holds.  A
slot's minimum net import makes a kWh less net import there cost up to
``TARGET_WEIGHT`` more: N then counts it on top of the price; the extra
SoC lowers the nets by at most (s' - s)/eff in all, so the argument stands.
A slot's own cap weighs the net above it: less import never costs more.)

**Bounding.** A state is also dropped when its cost so far plus a lower bound
on the cost to come (:class:`.lpbound.Bound`, a Lagrangian bound with the LP
relaxation's duals) exceeds a ceiling C. Every state on a plan costing <= C
survives, and a completed plan costs <= C (the bound is 0 at the end), so
whatever the search returns is optimal. C is the cost of the best known plan:
the first plan handed in (:mod:`.firstplan`, the battery holding), the battery
optimal around its loads (the same search without free loads), or the loads at
their own cheapest slots with room under the limit with the battery optimal
around them. If there is none, C rises from the bound, doubling its distance
each round (``MAX_ROUNDS``, then no ceiling). Before each search, slots and
starts that no plan costing <= C can use are removed (:func:`restrict`), which
shrinks the set of keys.

**Budget.**  Every search checks the deadline and the memory ceiling
(:class:`.budget.Budget`) before each slot, every few thousand load moves and
before it allocates a slot's arrays.  When either is reached the best plan
known is returned with the lower bound proved so far: the LP bound, raised
by every completed slot to min(C, min over surviving states of cost + bound),
since every state dropped was above C or dominated by one kept.

Ties (equal cost, equal SoC) keep the path with the smallest tie-break score,
which favours running loads in earlier slots; for the battery, ``normal`` is
preferred to ``charge_only`` and both to a ``force_charge`` that draws nothing.
In an unpriced slot the battery holds (``charge_only``).
"""

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from .budget import Budget, BudgetExceededError
from .eligibility import cycle_starts, run_slots
from .errors import InfeasibleError
from .feasibility import limit_infeasibility
from .grid import grid_cost
from .lpbound import (
    Bound,
    Multipliers,
    lp_multipliers,
    peak_demand,
    plain_multipliers,
)
from .models import (
    Battery,
    BatteryMode,
    CycleLoad,
    Decisions,
    InterruptibleLoad,
    Problem,
)
from .outcome import EXCESS_WEIGHT, TARGET_WEIGHT, Outcome
from .setpoints import as_setpoints

TOLERANCE = 1e-9
LIMIT_TOLERANCE_KWH = 1e-9
INF = float("inf")
DELTA0 = 0.25  # pence: the first ceiling above the bound without a known plan
MAX_ROUNDS = 6
ALL_MODES = (
    BatteryMode.NORMAL,
    BatteryMode.CHARGE_ONLY,
    BatteryMode.FORCE_CHARGE,
    BatteryMode.FORCE_DISCHARGE,
)
HOLD = 1  # charge_only: what the battery does in a slot without a price
FORCE_CHARGE = 2
FORCE_DISCHARGE = 3


@dataclass(frozen=True, slots=True)
class Runner:
    """An interruptible load with a real choice to make."""

    id: str
    kwh: float
    eligible: tuple[bool, ...]
    forced: tuple[bool, ...]
    count: int
    remaining: tuple[int, ...] = ()  # eligible slots in [t, T)
    forced_remaining: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Cycle:
    """A cycle with more than one allowed start."""

    id: str
    profile: tuple[float, ...]
    allowed: tuple[bool, ...]
    last_start: int = 0


def _runner(r: Runner) -> Runner:
    count = len(r.eligible)
    remaining = [0] * (count + 1)
    forced_remaining = [0] * (count + 1)
    for t in range(count - 1, -1, -1):
        remaining[t] = remaining[t + 1] + r.eligible[t]
        forced_remaining[t] = forced_remaining[t + 1] + r.forced[t]
    return Runner(
        r.id,
        r.kwh,
        r.eligible,
        r.forced,
        r.count,
        tuple(remaining),
        tuple(forced_remaining),
    )


@dataclass(slots=True)
class Model:
    """The free loads, the constant demand and the battery of a problem."""

    count: int
    dt: float
    prices: list[float]
    const: list[float]
    limit: float | None
    battery: Battery | None
    priced: tuple[bool, ...] = ()
    runners: list[Runner] = field(default_factory=list)
    cycles: list[Cycle] = field(default_factory=list)
    fixed_on: dict[str, tuple[bool, ...]] = field(default_factory=dict)
    fixed_start: dict[str, int | None] = field(default_factory=dict)
    lo: float = 0.0
    cap: float = 0.0
    min_soc: float = 0.0
    soc0: float = 0.0
    charge: float = 0.0
    discharge: float = 0.0
    eff: float = 1.0
    pv: list[float] = field(default_factory=list)  # kWh per slot
    export: list[float] = field(default_factory=list)  # export price per slot
    export_cap: float = INF  # kWh per slot
    floors: list[float] | None = None  # target net import per slot, kWh (-inf: none)
    ceilings: list[float] | None = None  # each slot's own cap, kWh (inf: none)
    modes: tuple[int, ...] = (0, 1, 2)  # offered, as indices into ALL_MODES
    power: bool = False  # power control: the search plans it with every mode

    def add_runner(self, r: Runner) -> None:
        """Add an interruptible load, or fix it if it has no choice left."""
        n_eligible = sum(r.eligible)
        n_forced = sum(r.forced)
        if r.count in {0, n_eligible} or n_forced >= r.count:
            if r.count == 0:
                on = (False,) * self.count
            elif r.count == n_eligible:
                on = r.eligible
            else:
                on = r.forced
            self.fixed_on[r.id] = on
            for t, flag in enumerate(on):
                if flag:
                    self.const[t] += r.kwh
            return
        self.runners.append(_runner(r))

    def add_cycle(self, c: Cycle) -> None:
        """Add a cycle, or fix it if at most one start is allowed."""
        starts = [k for k, ok in enumerate(c.allowed) if ok]
        if len(starts) <= 1:
            start = starts[0] if starts else None
            self.fixed_start[c.id] = start
            if start is not None:
                for i, kwh in enumerate(c.profile):
                    self.const[start + i] += kwh
            return
        self.cycles.append(Cycle(c.id, c.profile, c.allowed, max(starts)))

    def copy_fixed(self) -> Model:
        """Return the model without its free loads (to add them again)."""
        m = Model(
            self.count,
            self.dt,
            self.prices,
            list(self.const),
            self.limit,
            self.battery,
            self.priced,
            fixed_on=dict(self.fixed_on),
            fixed_start=dict(self.fixed_start),
        )
        m.lo, m.cap, m.min_soc, m.soc0 = self.lo, self.cap, self.min_soc, self.soc0
        m.charge, m.discharge, m.eff = self.charge, self.discharge, self.eff
        m.pv, m.export, m.export_cap = self.pv, self.export, self.export_cap
        m.modes, m.power = self.modes, self.power
        m.floors, m.ceilings = self.floors, self.ceilings
        return m

    def exports(self) -> bool:
        """Whether the battery may discharge beyond the demand (to the grid)."""
        return self.battery is not None and (
            self.power or FORCE_DISCHARGE in self.modes
        )

    def grid_charges(self) -> bool:
        """Whether the battery may charge from the grid."""
        return self.battery is not None and (self.power or FORCE_CHARGE in self.modes)


def build_model(problem: Problem) -> Model:
    """Translate ``problem``: loads without a choice go into the constant demand."""
    count = len(problem.slots)
    dt = problem.slot_hours
    battery = next((b for b in problem.loads if isinstance(b, Battery)), None)
    model = Model(
        count,
        dt,
        problem.prices,
        [kw * dt for kw in problem.base_kw],
        None if problem.import_limit_kw is None else problem.import_limit_kw * dt,
        battery,
        problem.priced,
        floors=problem.import_floors_kwh,
        ceilings=problem.import_ceilings_kwh,
    )
    if battery is not None:
        model.cap = battery.capacity_kwh
        model.min_soc = battery.min_soc_kwh
        model.soc0 = battery.soc_kwh
        model.lo = min(model.soc0, model.min_soc)
        model.charge = battery.charge_kw * dt
        model.discharge = battery.discharge_kw * dt
        model.eff = battery.efficiency
        model.power = battery.control == "power"
        offered = set(ALL_MODES) if model.power else set(battery.modes)
        model.modes = tuple(i for i, mode in enumerate(ALL_MODES) if mode in offered)
    model.pv = problem.pv_kwh
    model.export = problem.export_prices
    model.export_cap = problem.export_cap_kwh
    for load in problem.loads:
        if isinstance(load, InterruptibleLoad):
            run = run_slots(problem, load)
            eligible = set(run.eligible)
            forced = set(run.forced)
            model.add_runner(
                Runner(
                    load.id,
                    load.power_kw * dt,
                    tuple(t in eligible for t in range(count)),
                    tuple(t in forced for t in range(count)),
                    run.count,
                )
            )
        elif isinstance(load, CycleLoad):
            allowed = set(cycle_starts(problem, load).allowed)
            model.add_cycle(
                Cycle(
                    load.id, load.profile_kwh, tuple(k in allowed for k in range(count))
                )
            )
    return model


# ---------------------------------------------------------------- the search

type _Key = tuple[int, ...]
# (new key, load kWh, score, flags on/started per free load)
type _Move = tuple[_Key, float, float, tuple[bool, ...]]
type _Floats = npt.NDArray[np.float64]
type _Ints = npt.NDArray[np.int64]

_MOVE_BYTES = 512  # a move, its key and its entries in the slot's lists
_MANY_MOVES = 256  # moves of one key that are afforded before they are built


@dataclass(frozen=True, slots=True)
class Found:
    """A plan found by :func:`search`: its cost and choices per slot."""

    cost: float  # including the best-effort weight on the excess
    excess: float
    flags: list[tuple[bool, ...]]
    modes: list[BatteryMode]


@dataclass(frozen=True, slots=True)
class _Step:
    """How the entries of one layer were reached from the previous one."""

    parent: npt.NDArray[np.int32]
    mode: npt.NDArray[np.int8]
    pair: npt.NDArray[np.int32]
    flags: list[tuple[bool, ...]]


type _Option = tuple[int, float, float, bool]  # (progress, kWh, score, on/started)


def _cycle_options(c: Cycle, phase: int, t: int) -> list[_Option]:
    """List a cycle's moves in slot t: wait or start, next phase, or done."""
    if phase == 0:
        options: list[_Option] = []
        if c.last_start > t:
            options.append((0, 0.0, 0.0, False))
        if c.allowed[t]:
            options.append((1, c.profile[0], t + 1.0, True))
        return options
    if phase < len(c.profile):
        return [(phase + 1, c.profile[phase], 0.0, False)]
    return [(phase, 0.0, 0.0, False)]


def _moves(model: Model, t: int, key: _Key, budget: Budget) -> list[_Move]:
    """Load moves from ``key`` in slot t (the product of every load's options)."""
    per_load: list[list[_Option]] = []
    size = 1
    for i, r in enumerate(model.runners):
        done = key[i]
        options: list[_Option] = []
        left = r.count - done
        if not r.forced[t] and left <= r.remaining[t + 1]:
            options.append((done, 0.0, 0.0, False))
        if r.eligible[t] and left > 0 and left - 1 >= r.forced_remaining[t + 1]:
            options.append((done + 1, r.kwh, t + 1.0, True))
        per_load.append(options)
        size *= len(options)
    base = len(model.runners)
    for j, c in enumerate(model.cycles):
        options = _cycle_options(c, key[base + j], t)
        per_load.append(options)
        size *= len(options)
    if size > _MANY_MOVES:  # every subset of many cycles: ask first
        budget.afford(size * _MOVE_BYTES)
    result: list[_Move] = [((), 0.0, 0.0, ())]
    for options in per_load:
        result = [
            ((*k, o[0]), kwh + o[1], score + o[2], (*flags, o[3]))
            for k, kwh, score, flags in result
            for o in options
        ]
    return result


def _sorted(primary: _Floats, cost: _Floats, score: _Floats) -> _Ints:
    """Order indices by (primary, cost), the least score first among equals.

    One quicksort of complex numbers primary + i cost (numpy orders them by
    real, then imaginary part).  Of a run of equal (primary, cost) only the
    first survives the pruning, so the run's least score is swapped to its
    front (no sort needed).  Much cheaper than a three-key lexsort.
    """
    order = np.argsort(primary + 1j * cost)
    first, second = primary[order], cost[order]
    tied = (first[1:] == first[:-1]) & (second[1:] == second[:-1])
    if tied.any():
        opens = np.concatenate(([True], ~tied))
        run = np.cumsum(opens) - 1
        heads = np.flatnonzero(opens)
        ranked = score[order]
        lowest = np.flatnonzero(ranked == np.minimum.reduceat(ranked, heads)[run])
        best = lowest[np.concatenate(([True], run[lowest][1:] != run[lowest][:-1]))]
        order[heads], order[best] = order[best], order[heads]
    return order.astype(np.int64)


_SMALL = 2048  # candidates: below this a lexsort and a padded grid are cheaper


def _kept(value: _Floats, bounds: _Ints, firsts: _Ints) -> npt.NDArray[np.bool_]:
    """Keep each value below the least value before it in its group (SoC order).

    Small or even groups: a running minimum along the rows of a padded grid.
    Otherwise over integer ranks of the values, shifted per group so one
    accumulate serves every group exactly (no padding).
    """
    size = len(value)
    sizes = np.concatenate((bounds, [size])) - firsts
    group = np.repeat(np.arange(len(firsts), dtype=np.int64), sizes)
    column = np.arange(size, dtype=np.int64) - firsts[group]
    keep: npt.NDArray[np.bool_] = column == 0
    later = np.flatnonzero(~keep)
    widest = int(sizes.max())
    if len(firsts) * widest <= 4 * size:
        grid = np.full((len(firsts), widest), np.inf)
        grid[group, column] = value
        least = np.minimum.accumulate(grid, axis=1)
        before = least[group[later], column[later] - 1]
    else:
        by_value = np.argsort(value, kind="stable")
        rank = np.empty(size, dtype=np.int64)
        rank[by_value] = np.arange(size, dtype=np.int64)
        # later groups sit below earlier ones: the running minimum restarts
        least_rank = np.minimum.accumulate(rank - group * size)
        before = value[by_value[least_rank[later - 1] + group[later] * size]]
    keep[later] = value[later] < before - TOLERANCE
    return keep


def _pareto(  # noqa: PLR0917
    nid: _Ints,
    soc: _Floats,
    cost: _Floats,
    score: _Floats,
    penalty: float,
    has_battery: bool,
) -> tuple[_Ints, _Ints]:
    """Order the candidates by key and keep the non-dominated ones.

    Returns the kept candidates' indices (grouped by key, SoC descending) and
    the start of each key's group.  Within a group (SoC descending) a
    candidate is kept if its value (cost + penalty x SoC) is below the least
    value before it (:func:`_kept`).
    """
    if has_battery:
        # key, then SoC descending, as one number (SoC lies in [top - width, top])
        width = float(soc.max() - soc.min()) + 1.0
        primary = nid * width + (float(soc.max()) - soc)
    else:
        primary = nid.astype(np.float64)
    if len(nid) <= _SMALL:
        order = np.lexsort((score, cost, primary))
    else:
        order = _sorted(primary, cost, score)
    keys = nid[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    firsts = np.concatenate(([0], bounds)).astype(np.int64)
    if not has_battery:
        return order[firsts], np.arange(len(firsts) + 1, dtype=np.int64)
    keep = _kept((cost + penalty * soc)[order], bounds, firsts)
    kept = order[keep]
    groups = np.concatenate(
        ([0], np.cumsum(np.add.reduceat(keep.astype(np.int64), firsts)))
    ).astype(np.int64)
    return kept, groups


@dataclass(slots=True)
class Progress:
    """What a search has proved so far: no plan costs less than :meth:`proven`.

    ``bound`` is proved outright; ``layer`` holds the last completed slot of
    the running search (its bound, ceiling and states), whose bound is only
    worked out if the search is stopped.
    """

    bound: float = -INF
    layer: (
        tuple[Bound | None, float, int, list[_Key], _Ints, _Floats, _Floats] | None
    ) = None

    def proven(self) -> float:
        """Return min(ceiling, min over states of cost + bound), or ``bound``."""
        if self.layer is None:
            return self.bound
        bound, ceiling, t, keys, starts, soc, cost = self.layer
        if bound is None:
            return max(self.bound, min(ceiling, float(cost.min())))
        floor = np.repeat([bound.loads(t, key) for key in keys], np.diff(starts))
        rest = cost + floor
        if bound.values:
            rest += np.interp(soc, bound.values[t].xs, bound.values[t].values)
        return max(self.bound, min(ceiling, float(rest.min())))


type _Flows = tuple[_Ints, _Floats, _Floats, npt.NDArray[np.int8]]


def transitions(model: Model, t: int, s: _Floats, demand: _Floats) -> _Flows:
    """Every distinct battery move of slot t from SoCs ``s`` at demands ``demand``.

    Returns (which entry each move comes from, new SoC, net kWh, mode index)
    for each offered mode whose (charge, discharge) differs from those of the
    offered modes before it (``ALL_MODES`` order), as in
    :func:`.simulate.battery_flows`.  Without a price the battery holds
    (``charge_only``: PV surplus only).
    """
    total = len(s)
    every = np.arange(total, dtype=np.int64)
    pv = model.pv[t] if model.pv else 0.0
    surplus_net = demand - pv
    if model.battery is None:
        return every, s, surplus_net, np.full(total, HOLD, dtype=np.int8)
    cap, eff = model.cap, model.eff
    room = np.maximum(0.0, (cap - s) / eff)
    c_lim = np.minimum(model.charge, room)
    from_pv = np.maximum(0.0, np.minimum(-surplus_net, c_lim)) if pv else None
    if not model.priced[t]:  # a power-controlled battery holds at 0 kW
        if model.power:
            from_pv = None
        if from_pv is None:
            return every, s, surplus_net, np.full(total, HOLD, dtype=np.int8)
        held = np.minimum(cap, s + from_pv * eff)
        return every, held, surplus_net + from_pv, np.full(total, HOLD, dtype=np.int8)
    zero = np.zeros(total)
    d_lim = np.maximum(0.0, np.minimum(model.discharge, s - model.min_soc))
    pv_charge = zero if from_pv is None else from_pv
    flows: dict[int, tuple[_Floats, _Floats]] = {
        0: (pv_charge, np.where(surplus_net > 0, np.minimum(surplus_net, d_lim), 0.0)),
        1: (pv_charge, zero),
        FORCE_CHARGE: (c_lim, zero),
    }
    if FORCE_DISCHARGE in model.modes:
        flows[FORCE_DISCHARGE] = (
            zero,
            np.minimum(d_lim, np.maximum(0.0, model.export_cap + surplus_net)),
        )
    bases: list[_Ints] = []
    socs: list[_Floats] = []
    nets: list[_Floats] = []
    codes: list[npt.NDArray[np.int8]] = []
    earlier: list[tuple[_Floats, _Floats]] = []
    for code in model.modes:
        c, d = flows[code]
        new = np.ones(total, dtype=bool)
        for c0, d0 in earlier:
            new &= (c != c0) | (d != d0)
        earlier.append((c, d))
        chosen = every if new.all() else np.flatnonzero(new)
        cc, dd, ss = c[chosen], d[chosen], s[chosen]
        bases.append(chosen)
        socs.append(np.minimum(cap, ss + cc * eff) - dd)
        nets.append(surplus_net[chosen] + (cc - dd))
        codes.append(np.full(len(chosen), code, dtype=np.int8))
    return (
        np.concatenate(bases),
        np.concatenate(socs),
        np.concatenate(nets),
        np.concatenate(codes),
    )


def _penalties(model: Model) -> list[float]:
    """N_t / eff: what a kWh of SoC can cost at most from slot t on (dominance)."""
    count = model.count
    penalties = [0.0] * (count + 1)
    if model.battery is None:
        return penalties
    export = model.export or [0.0] * count
    floors = model.floors or [-INF] * count
    for t in range(count - 1, -1, -1):
        worst = max(-model.prices[t], -export[t])
        if floors[t] > -INF:  # less net import there may fall short of the target
            worst += TARGET_WEIGHT
        penalties[t] = max(penalties[t + 1], worst / model.eff)
    return penalties


def _unmet_ahead(model: Model) -> list[float]:
    """Per slot t: the weighted shortfall no plan avoids in the slots from t on.

    A slot's net is at most its peak demand less PV plus the most the battery
    may draw (from the grid only with force charge or power control), so the
    shortfall below its minimum is at least the minimum less that.  A lower
    bound on the cost to come, added to the search's estimates.
    """
    count = model.count
    ahead = [0.0] * (count + 1)
    if model.floors is None:
        return ahead
    peak = peak_demand(model)
    pv = model.pv or [0.0] * count
    grid = model.grid_charges()
    for t in range(count - 1, -1, -1):
        top = peak[t] - pv[t]
        top = top + model.charge if grid and model.priced[t] else max(top, 0.0)
        ahead[t] = ahead[t + 1] + TARGET_WEIGHT * max(0.0, model.floors[t] - top)
    return ahead


def _short(model: Model, t: int, net: _Floats, cost: _Floats) -> None:
    """Add slot t's weighted miss of its targets to ``cost`` (in place)."""
    if model.floors is not None and model.floors[t] > -INF:
        cost += TARGET_WEIGHT * np.maximum(0.0, model.floors[t] - net)
    if model.ceilings is not None and model.ceilings[t] < INF:
        cost += TARGET_WEIGHT * np.maximum(0.0, net - model.ceilings[t])


_CANDIDATE_BYTES = 400  # numpy memory per (state, load move), measured: <= 321
_PAIRS_CHECK = 8192  # afford the slot's (key, move) pairs in steps of this many


def search(  # noqa: C901, PLR0915
    model: Model,
    bound: Bound | None,
    *,
    best_effort: bool,
    ceiling: float = INF,
    budget: Budget | None = None,
    progress: Progress | None = None,
) -> Found | None:
    """Run the DP; states whose bound exceeds ``ceiling`` are dropped.

    Each layer (the states after a slot) is kept as flat arrays grouped by key;
    all candidates of a slot are generated, bounded and pruned at once.  The
    budget is checked before every slot, every few thousand load moves and before
    the arrays of a slot are allocated (:class:`.budget.BudgetExceededError`).
    After each slot, ``progress`` learns the surviving states, which prove
    that every plan costs at least min(ceiling, min over states of cost so far
    + bound to come), since a dropped state is above the ceiling or dominated
    by one that is kept (:meth:`Progress.proven`).
    """
    budget = budget or Budget.start(INF, INF)
    progress = progress or Progress()
    count = model.count
    prices = model.prices
    limit = model.limit
    has_battery = model.battery is not None
    penalties = _penalties(model)
    unmet = _unmet_ahead(model)
    export = model.export or [0.0] * count
    margin = 1e-6 + 1e-9 * abs(ceiling) if ceiling < INF else INF
    keys: list[_Key] = [(0,) * (len(model.runners) + len(model.cycles))]
    starts = np.array([0, 1], dtype=np.int64)
    soc = np.array([model.soc0])
    cost = np.zeros(1)
    score = np.zeros(1)
    excess = np.zeros(1)
    steps: list[_Step] = []
    values = bound.values if bound is not None else []
    for t in range(count):
        budget.check()
        # every (key, move) pair of this slot
        new_index: dict[_Key, int] = {}
        p_src: list[int] = []
        p_new: list[int] = []
        p_kwh: list[float] = []
        p_score: list[float] = []
        p_flags: list[tuple[bool, ...]] = []
        checked = 0
        for ki, key in enumerate(keys):
            if len(p_src) - checked > _PAIRS_CHECK:
                budget.afford((len(p_src) - checked) * _MOVE_BYTES)
                checked = len(p_src)
            for new_key, kwh, move_score, flags in _moves(model, t, key, budget):
                nid = new_index.get(new_key)
                if nid is None:
                    nid = new_index[new_key] = len(new_index)
                p_src.append(ki)
                p_new.append(nid)
                p_kwh.append(kwh)
                p_score.append(move_score)
                p_flags.append(flags)
        src = np.array(p_src, dtype=np.int64)
        lengths = (starts[1:] - starts[:-1])[src]
        total = int(lengths.sum())
        budget.afford(total * _CANDIDATE_BYTES)
        first = np.cumsum(lengths) - lengths
        pair = np.repeat(np.arange(len(p_src), dtype=np.int64), lengths)
        parent = starts[src][pair] + np.arange(total, dtype=np.int64) - first[pair]
        s = soc[parent]
        demand = model.const[t] + np.array(p_kwh)[pair]
        base, new_soc, net, mode = transitions(model, t, s, demand)
        del s, demand
        new_cost = cost[parent[base]] + grid_cost(
            net, prices[t], export[t], model.export_cap
        )
        new_excess = excess[parent[base]]
        ok = np.ones(len(base), dtype=bool)
        _short(model, t, net, new_cost)
        if limit is not None:
            above = np.maximum(0.0, net - limit)
            if best_effort:
                new_cost += EXCESS_WEIGHT * above
                new_excess = new_excess + above
            else:
                ok &= net <= limit + LIMIT_TOLERANCE_KWH
        floors = (
            np.array([bound.loads(t + 1, k) for k in new_index])
            if bound is not None
            else np.zeros(len(new_index))
        )
        floor = floors[np.array(p_new, dtype=np.int64)[pair[base]]] + unmet[t + 1]
        if values:
            f = values[t + 1]
            estimate = new_cost + np.interp(new_soc, f.xs, f.values) + floor
        else:
            estimate = new_cost + floor
        ok &= estimate <= ceiling + margin
        chosen = np.flatnonzero(ok)
        if not len(chosen):
            progress.bound = max(progress.bound, ceiling)
            progress.layer = None
            return None
        del net, ok, floor, estimate
        base = base[chosen]
        new_soc = new_soc[chosen]
        new_cost = new_cost[chosen]
        new_excess = new_excess[chosen]
        mode = mode[chosen]
        mode_scores = (
            np.array([-(count - t), 0.0, 2 * t + 1.0, 2 * t + 2.0])
            if has_battery and model.priced[t]
            else np.zeros(4)
        )
        new_score = (
            score[parent[base]] + np.array(p_score)[pair[base]] + mode_scores[mode]
        )
        nid_of = np.array(p_new, dtype=np.int64)[pair[base]]
        kept, groups = _pareto(
            nid_of, new_soc, new_cost, new_score, penalties[t + 1], has_battery
        )
        by_id = list(new_index)
        keys = [by_id[i] for i in nid_of[kept[groups[:-1]]].tolist()]
        starts = groups
        soc = new_soc[kept]
        cost = new_cost[kept]
        score = new_score[kept]
        excess = new_excess[kept]
        progress.layer = (bound, ceiling, t + 1, keys, starts, soc, cost)
        steps.append(  # kept for the way back: 9 bytes per state
            _Step(
                parent[base[kept]].astype(np.int32),
                mode[kept],
                pair[base[kept]].astype(np.int32),
                p_flags,
            )
        )
    best = float(cost.min())
    tie = TOLERANCE * (1 + abs(best))
    near = np.flatnonzero(cost <= best + tie)
    i = int(near[np.argmin(score[near])])
    found_cost, found_excess = float(cost[i]), float(excess[i])
    flags_path: list[tuple[bool, ...]] = []
    modes: list[BatteryMode] = []
    for step in reversed(steps):
        flags_path.append(step.flags[int(step.pair[i])])
        modes.append(ALL_MODES[int(step.mode[i])])
        i = int(step.parent[i])
    flags_path.reverse()
    modes.reverse()
    return Found(found_cost, found_excess, flags_path, modes)


def battery_search(model: Model, *, best_effort: bool, budget: Budget) -> Found | None:
    """Plan the battery alone around fixed loads: the DP over the SoC only.

    The same dominance as :func:`search` with one key and fewer steps per
    slot; it gives the exact search its first ceiling.  ``None`` if the
    limit cannot be met.
    """
    count, prices, limit = model.count, model.prices, model.limit
    export = model.export or [0.0] * count
    penalties = _penalties(model)
    soc = np.array([model.soc0])
    cost = np.zeros(1)
    excess = np.zeros(1)
    back: list[tuple[_Ints, npt.NDArray[np.int8]]] = []
    for t in range(count):
        budget.afford(len(soc) * _CANDIDATE_BYTES)
        demand = np.full(len(soc), model.const[t])
        parent, new_soc, net, mode = transitions(model, t, soc, demand)
        new_cost = cost[parent] + grid_cost(net, prices[t], export[t], model.export_cap)
        new_excess = excess[parent]
        _short(model, t, net, new_cost)
        if limit is not None:
            above = np.maximum(0.0, net - limit)
            if best_effort:
                new_cost += EXCESS_WEIGHT * above
                new_excess = new_excess + above
            else:
                new_cost[net > limit + LIMIT_TOLERANCE_KWH] = INF
        order = np.lexsort((mode, new_cost, -new_soc))
        value = (new_cost + penalties[t + 1] * new_soc)[order]
        least = np.minimum.accumulate(value)
        keep = np.concatenate(([True], value[1:] < least[:-1] - TOLERANCE))
        keep &= value < INF
        kept = order[keep]
        if not len(kept):
            return None
        soc, cost, excess = new_soc[kept], new_cost[kept], new_excess[kept]
        back.append((parent[kept], mode[kept]))
    i = int(np.argmin(cost))
    found_cost, found_excess = float(cost[i]), float(excess[i])
    modes: list[BatteryMode] = []
    for parents, chosen in reversed(back):
        modes.append(ALL_MODES[int(chosen[i])])
        i = int(parents[i])
    modes.reverse()
    return Found(found_cost, found_excess, [()] * count, modes)


# ---------------------------------------------------------------- reductions


def restrict(model: Model, bound: Bound, ceiling: float) -> Model:
    """Drop slots and starts that no plan costing <= ``ceiling`` can use."""
    root: _Key = (0,) * (len(model.runners) + len(model.cycles))
    total = bound.loads(0, root) + bound.battery(0, model.soc0)
    slack = ceiling - total + 1e-6 + 1e-9 * abs(ceiling)
    result = model.copy_fixed()
    q = bound.q
    for r in model.runners:
        ranked = sorted((q[t] * r.kwh, t) for t in range(model.count) if r.eligible[t])
        theta = ranked[r.count - 1][0]
        after = ranked[r.count][0] if r.count < len(ranked) else INF
        eligible = list(r.eligible)
        forced = list(r.forced)
        for rank, (value, t) in enumerate(ranked):
            if rank >= r.count and value - theta > slack and not forced[t]:
                eligible[t] = False
            elif rank < r.count and after - value > slack:
                forced[t] = True
        result.add_runner(Runner(r.id, r.kwh, tuple(eligible), tuple(forced), r.count))
    for c in model.cycles:
        costs = {
            k: sum(e * q[k + j] for j, e in enumerate(c.profile))
            for k in range(model.count)
            if c.allowed[k]
        }
        low = min(costs.values())
        allowed = tuple(
            k in costs and costs[k] - low <= slack for k in range(model.count)
        )
        result.add_cycle(Cycle(c.id, c.profile, allowed))
    return result


def fixed_loads(model: Model, prices: list[float]) -> Model | None:
    """Every free load at its cheapest slots under ``prices`` that leave room.

    Loads are placed largest first; a slot has room if the constant demand and
    the loads placed so far, less the PV, stay within the import limit there
    (the battery holding).  ``None`` if some load finds no room.
    """
    count = model.count
    result = model.copy_fixed()
    pv = model.pv or [0.0] * count
    cap = INF if model.limit is None else model.limit
    room = [cap - c + g for c, g in zip(model.const, pv, strict=True)]
    tol = LIMIT_TOLERANCE_KWH
    items: list[tuple[float, int, Runner | Cycle]] = [
        (-r.kwh, i, r) for i, r in enumerate(model.runners)
    ]
    items += [(-max(c.profile), len(items) + j, c) for j, c in enumerate(model.cycles)]
    for _, _, item in sorted(items, key=lambda x: (x[0], x[1])):
        if isinstance(item, Runner):
            r = item
            forced = [t for t, f in enumerate(r.forced) if f]
            others = sorted(
                (
                    t
                    for t, e in enumerate(r.eligible)
                    if e and not r.forced[t] and room[t] >= r.kwh - tol
                ),
                key=lambda t: (prices[t], t),
            )
            chosen = forced + others[: r.count - len(forced)]
            if len(chosen) < r.count or any(room[t] < r.kwh - tol for t in forced):
                return None
            for t in chosen:
                room[t] -= r.kwh
            mask = tuple(t in set(chosen) for t in range(count))
            result.add_runner(Runner(r.id, r.kwh, mask, mask, r.count))
        else:
            c = item
            costs = {
                k: sum(e * prices[k + i] for i, e in enumerate(c.profile))
                for k, ok in enumerate(c.allowed)
                if ok and all(room[k + i] >= e - tol for i, e in enumerate(c.profile))
            }
            if not costs:
                return None
            best = min(costs, key=lambda k: (costs[k], k))
            for i, e in enumerate(c.profile):
                room[best + i] -= e
            result.add_cycle(
                Cycle(c.id, c.profile, tuple(k == best for k in range(count)))
            )
    return result


def placed(model: Model, decisions: Decisions) -> Model:
    """``model`` with every free load where ``decisions`` put it."""
    result = model.copy_fixed()
    for r in model.runners:
        mask = tuple(decisions.on[r.id])
        result.add_runner(Runner(r.id, r.kwh, mask, mask, r.count))
    for c in model.cycles:
        start = decisions.start[c.id]
        result.add_cycle(
            Cycle(c.id, c.profile, tuple(k == start for k in range(model.count)))
        )
    return result


def _decisions(model: Model, found: Found) -> Decisions:
    on = dict(model.fixed_on)
    for i, r in enumerate(model.runners):
        on[r.id] = tuple(flags[i] for flags in found.flags)
    start = dict(model.fixed_start)
    base = len(model.runners)
    for j, c in enumerate(model.cycles):
        start[c.id] = next(t for t, flags in enumerate(found.flags) if flags[base + j])
    battery = model.battery
    mode = {} if battery is None else {battery.id: tuple(found.modes)}
    return Decisions(on=on, start=start, mode=mode)


@dataclass(slots=True)
class _Best:
    """The best plan known during a solve and the proven lower bound."""

    decisions: Decisions | None = None
    cost: float = INF
    progress: Progress = field(default_factory=Progress)

    def offer(self, model: Model, found: Found | None) -> None:
        if found is not None and found.cost <= self.cost:
            self.decisions = _decisions(model, found)
            self.cost = found.cost


def _known_plan(
    model: Model,
    first: Decisions | None,
    best: _Best,
    *,
    best_effort: bool,
    budget: Budget,
) -> None:
    """Plan the battery around the first plan's loads (or the greedy one's)."""
    for simple in (
        None if first is None else placed(model, first),
        fixed_loads(model, model.prices),
    ):
        if simple is None:
            continue
        found = battery_search(simple, best_effort=best_effort, budget=budget)
        if found is not None:
            best.offer(simple, found)
            return


def _search_all(
    model: Model,
    mult: Multipliers,
    bound: Bound,
    first: Decisions | None,
    best: _Best,
    *,
    best_effort: bool,
    budget: Budget,
) -> None:
    """Known plan, restriction, search; ``best`` holds the optimum when it returns."""
    if not (model.runners or model.cycles):
        best.offer(
            model,
            search(
                model,
                bound,
                best_effort=best_effort,
                budget=budget,
                progress=best.progress,
            ),
        )
        return
    _known_plan(model, first, best, best_effort=best_effort, budget=budget)
    root: _Key = (0,) * (len(model.runners) + len(model.cycles))
    low = bound.loads(0, root) + bound.battery(0, model.soc0)
    step = DELTA0 * (1.0 + abs(low) * 1e-3)
    ceilings = (
        [best.cost]
        if best.decisions is not None
        else [low + step * 2**k for k in range(MAX_ROUNDS)] + [INF]
    )
    for ceiling in ceilings:
        narrow = restrict(model, bound, ceiling) if ceiling < INF else model
        found = search(
            narrow,
            Bound(narrow, mult, bound.values) if ceiling < INF else bound,
            best_effort=best_effort,
            ceiling=ceiling,
            budget=budget,
            progress=best.progress,
        )
        if found is not None:  # it costs <= ceiling: optimal
            best.decisions = _decisions(narrow, found)
            best.cost = found.cost
            return


def _solve(
    model: Model,
    first: tuple[Decisions, float] | None,
    *,
    best_effort: bool,
    budget: Budget,
) -> Outcome | None:
    """Solve ``model`` exactly within ``budget``; ``None`` if it is infeasible.

    ``first`` is a plan and its cost: the best known until a better is found.
    """
    best = _Best()
    if first is not None:
        best.decisions, best.cost = first
    root_bound = -INF
    try:
        mult = lp_multipliers(model, best_effort=best_effort, budget=budget)
        if mult is None:
            return None
        bound = Bound(model, mult)
        root: _Key = (0,) * (len(model.runners) + len(model.cycles))
        best.progress.bound = bound.loads(0, root) + bound.battery(0, model.soc0)
        root_bound = best.progress.bound
        _search_all(
            model,
            mult,
            bound,
            None if first is None else first[0],
            best,
            best_effort=best_effort,
            budget=budget,
        )
    except BudgetExceededError as stop:
        return Outcome(
            decisions=best.decisions,
            bound=min(best.progress.proven(), best.cost),
            optimal=False,
            stopped=stop.reason,
            weighted=best_effort,
        )
    if best.decisions is None:  # every search ran to the end without a plan
        return None
    if model.power:  # the best plan by modes: optimal if it meets the LP bound
        proven = best.cost <= root_bound + 1e-6 + 1e-9 * abs(best.cost)
        return Outcome(
            decisions=best.decisions,
            bound=best.cost if proven else root_bound,
            optimal=proven,
            stopped=None if proven else "modes",
            weighted=best_effort,
        )
    return Outcome(
        decisions=best.decisions, bound=best.cost, optimal=True, weighted=best_effort
    )


def quick_bound(problem: Problem) -> float:
    """Return a lower bound on every plan's cost that needs no LP (fast).

    The Lagrangian bound with q the import price and lambda 0: each load at
    its own cheapest slots, the battery relaxed, the limit only capping the net.
    """
    model = build_model(problem)
    bound = Bound(model, plain_multipliers(model))
    root: _Key = (0,) * (len(model.runners) + len(model.cycles))
    return bound.loads(0, root) + bound.battery(0, model.soc0)


def solve_dp(
    problem: Problem,
    *,
    best_effort: bool = False,
    budget: Budget | None = None,
    first: tuple[Decisions, float] | None = None,
) -> Outcome:
    """Solve ``problem`` exactly; raise :class:`InfeasibleError` if impossible.

    ``first`` is a plan within the limit and its cost to start from (the best
    known plan until a better one is found; the battery is planned around its
    loads).
    With ``best_effort`` an infeasible limit is solved again with the energy
    above it priced at ``EXCESS_WEIGHT`` p/kWh.  Within
    ``budget``: when it runs out, the best plan found so far is returned with
    ``optimal=False`` (its decisions may be ``None`` if none was found).
    """
    budget = budget or Budget.start()
    result = _solve(build_model(problem), first, best_effort=False, budget=budget)
    if result is None and best_effort and problem.import_limit_kw is not None:
        result = _solve(build_model(problem), None, best_effort=True, budget=budget)
    if result is None:
        raise InfeasibleError("import_limit_kw", limit_infeasibility(problem))
    if result.decisions is not None:  # a power battery planned by modes
        result = replace(result, decisions=as_setpoints(problem, result.decisions))
    return result
