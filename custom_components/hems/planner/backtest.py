"""Replay a price history day by day, as a household running hems would.

Every local day D at the plan time (16:45) the household plans every slot whose
price is then known (until 23:00 on D+1) and commits the first 24 hours
[17:00 D, 17:00 D+1); the battery's SoC carries over to the next day.  The PV
forecast is the actual outturn of the planned slots (a perfect forecast).  The
same is done with the simple per-device rules and with the house without
control, which is also priced at a flat tariff.
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
import importlib.util
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

from .backtest_report import plot, report, results_json
from .baselines import uncontrolled_decisions
from .booking import Booked, book
from .errors import ProblemError
from .household import Household, battery_with_soc, parse_household, with_window
from .models import Battery, Decisions, Load, Problem, Slot
from .price_files import EXPORT_COLUMNS, read_prices
from .rules import rule_decisions
from .simulate import Simulation, simulate_detail
from .solve import plan
from .user_files import check_output, read_text, shown, user_path

__all__ = ["DayResult", "Sources", "read_prices", "replay", "run_backtest_cli"]

SLOT = timedelta(minutes=30)


@dataclass(frozen=True, kw_only=True, slots=True)
class DayResult:
    """One replayed day: what each strategy booked over its committed slots.

    ``horizon`` holds each strategy's cost over the day's whole planning
    horizon from hems's SoC (hems's plan is optimal there, ``optimal``).
    """

    day: date
    slots: int
    hems: Booked
    rules: Booked
    no_control: Booked
    flat: Booked
    soc_end: dict[str, float]
    horizon: dict[str, float]
    optimal: bool
    plan_ms: float
    limit_violation_kwh: float
    prices: tuple[float, ...]
    export_prices: tuple[float, ...]
    pv_kw: tuple[float, ...]
    hems_import_kw: tuple[float, ...]
    hems_export_kw: tuple[float, ...]
    hems_curtailed_kw: tuple[float, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Sources:
    """The price and PV series a replay reads."""

    prices: dict[datetime, float]
    export_prices: dict[datetime, float] | None = None


def _horizon(
    household: Household, sources: Sources, start: datetime, end: datetime
) -> list[Slot]:
    """Slots from ``start`` while the import price (and export price, PV) is known."""
    slots: list[Slot] = []
    moment = start
    exports = sources.export_prices
    while moment < end and moment in sources.prices:
        if exports is not None and moment not in exports:
            break
        if household.pv is not None and household.pv.kw_at(moment) is None:
            break
        export = household.export_price if exports is None else exports[moment]
        slots.append(
            Slot(start=moment, price=sources.prices[moment], export_price=export)
        )
        moment += SLOT
    return slots


def _cut(values: tuple[float, ...] | float, count: int) -> tuple[float, ...] | float:
    return values[:count] if isinstance(values, tuple) else values


def _committed(
    problem: Problem, decisions: Decisions, count: int
) -> tuple[Problem, Decisions]:
    """Cut a problem and its decisions to the first ``count`` slots."""
    short = replace(
        problem,
        slots=problem.slots[:count],
        base_load_kw=_cut(problem.base_load_kw, count),
        pv_kw=_cut(problem.pv_kw, count),
    )
    return short, Decisions(
        on={k: v[:count] for k, v in decisions.on.items()},
        start=dict(decisions.start),
        mode={k: v[:count] for k, v in decisions.mode.items()},
        power={k: v[:count] for k, v in decisions.power.items()},
    )


def _day_problem(
    household: Household,
    slots: list[Slot],
    begin: datetime,
    end: datetime,
    soc: float | None,
) -> Problem:
    loads: list[Load] = []
    for spec in household.loads:
        if isinstance(spec.load, Battery):
            loads.append(
                battery_with_soc(spec.load, spec.load.soc_kwh if soc is None else soc)
            )
        else:
            loads.append(with_window(spec.load, household.window(spec, begin, end)))
    pv = household.pv
    return Problem(
        slots=tuple(slots),
        base_load_kw=tuple(household.base_at(s.start) for s in slots),
        import_limit_kw=household.import_limit_kw,
        loads=tuple(loads),
        pv_kw=0.0 if pv is None else tuple(pv.kw_at(s.start) or 0.0 for s in slots),
        export_limit_kw=household.export_limit_kw,
    )


type Strategy = Callable[[Problem], Decisions]


@dataclass(kw_only=True, slots=True)
class _Run:
    """One strategy's replay: how it decides and the SoC it carries over."""

    decide: Strategy
    soc: float | None = None


def _soc_after(sim: Simulation, fallback: float | None) -> float | None:
    return sim.soc_kwh[-1] if sim.soc_kwh else fallback


def _replay_day(
    household: Household,
    slots: list[Slot],
    span: tuple[datetime, datetime, int],
    runs: dict[str, _Run],
) -> DayResult:
    """Plan, book and carry over one day for every strategy."""
    begin, end, count = span
    booked: dict[str, Booked] = {}
    horizon: dict[str, float] = {}
    sims: dict[str, Simulation] = {}
    hems_problem = _day_problem(household, slots, begin, end, runs["hems"].soc)
    started = time.perf_counter()
    result = plan(hems_problem, best_effort=True)
    ms = 1000 * (time.perf_counter() - started)
    for name, run in runs.items():
        problem = _day_problem(household, slots, begin, end, run.soc)
        decisions = result.decisions if name == "hems" else run.decide(problem)
        # every strategy over the whole horizon from hems's SoC: hems is optimal
        same_start = decisions if name == "hems" else run.decide(hems_problem)
        horizon[name] = simulate_detail(hems_problem, same_start).cost
        short, cut = _committed(problem, decisions, count)
        sims[name] = sim = simulate_detail(short, cut)
        booked[name] = book(short, sim)
        run.soc = _soc_after(sim, run.soc)
    hems = sims["hems"]
    h = hems_problem.slot_hours
    short = _committed(hems_problem, result.decisions, count)[0]
    return DayResult(
        day=begin.astimezone(household.timezone).date(),
        slots=count,
        hems=booked["hems"],
        rules=booked["rules"],
        no_control=booked["no_control"],
        flat=booked["no_control"].priced(
            household.flat_price, household.flat_export_price
        ),
        soc_end={name: run.soc for name, run in runs.items() if run.soc is not None},
        horizon=horizon,
        optimal=result.optimal,
        plan_ms=ms,
        limit_violation_kwh=result.limit_violation_kwh,
        prices=tuple(short.prices),
        export_prices=tuple(short.export_prices),
        pv_kw=tuple(kwh / h for kwh in short.pv_kwh),
        hems_import_kw=tuple(kwh / h for kwh in hems.import_kwh),
        hems_export_kw=tuple(kwh / h for kwh in hems.export_kwh),
        hems_curtailed_kw=tuple(kwh / h for kwh in hems.curtailed_kwh),
    )


def replay(
    household: Household,
    sources: Sources | dict[datetime, float],
    first: date,
    last: date,
    *,
    progress: bool = False,
) -> list[DayResult]:
    """Replay every local day from ``first`` to ``last`` inclusive."""
    if not isinstance(sources, Sources):
        sources = Sources(prices=sources)
    above = household.discharge_above
    runs = {
        "hems": _Run(decide=lambda p: Decisions()),  # planned in _replay_day
        "rules": _Run(decide=lambda p: rule_decisions(p, discharge_above=above)),
        "no_control": _Run(decide=uncontrolled_decisions),
    }
    results: list[DayResult] = []
    days = (last - first).days + 1
    for n in range(days):
        day = first + timedelta(days=n)
        begin = household.day_start(day)
        end = household.day_start(day + timedelta(days=1))
        horizon_end = (
            datetime.combine(
                day + timedelta(days=1), datetime.min.time(), household.timezone
            )
            .replace(hour=23)
            .astimezone(UTC)
        )
        slots = _horizon(household, sources, begin, max(horizon_end, end))
        count = round((end - begin) / SLOT)
        if progress:
            _bar(n + 1, days)
        if len(slots) < count:
            continue  # prices or PV missing: the day cannot be replayed
        results.append(_replay_day(household, slots, (begin, end, count), runs))
    if progress:
        sys.stderr.write("\n")
    return results


def _bar(done: int, total: int) -> None:
    width = 40
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days")
    sys.stderr.flush()


def _date(value: str | None, field: str, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProblemError(field, f"not a date YYYY-MM-DD: {value!r}") from None


def _read_household(arg: str) -> Household:
    import yaml  # noqa: PLC0415 - only the backtest needs it

    path = user_path(arg)
    text = read_text(path, "--household")
    try:
        data: Any = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as err:
        # ValueError: an integer beyond Python's digit limit
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ProblemError(
            f"--household: {shown(path)}", f"invalid YAML: {reason}"
        ) from None
    return parse_household(data, base_dir=path.parent)


def _days(
    args: argparse.Namespace, prices: dict[datetime, float], zone: ZoneInfo
) -> tuple[date, date]:
    """Return the days to replay: those asked for that the prices cover."""
    known_first = min(prices).astimezone(zone).date()
    known_last = max(prices).astimezone(zone).date()
    first = _date(args.date_from, "--from", known_first)
    last = _date(args.date_to, "--to", known_last)
    if last < first:
        raise ProblemError("--to", "is before --from")
    if last < known_first or first > known_last:
        raise ProblemError(
            "--from/--to",
            f"no prices from {first} to {last}: the prices cover {known_first} "
            f"to {known_last}",
        )
    return max(first, known_first), min(last, known_last)


def _sources(args: argparse.Namespace) -> Sources:
    """Read ``--prices`` and ``--export-prices`` (columns found or named)."""
    prices = read_prices(user_path(args.prices), column=args.price_column)
    if not prices:
        raise ProblemError("--prices", "no prices")
    if args.export_prices is None:
        if args.export_column is not None:
            raise ProblemError("--export-column", "needs --export-prices")
        return Sources(prices=prices)
    exports = read_prices(
        user_path(args.export_prices),
        option="--export-prices",
        column=args.export_column,
        usual=EXPORT_COLUMNS,
    )
    if not exports:
        raise ProblemError("--export-prices", "no prices")
    return Sources(prices=prices, export_prices=exports)


def run_backtest_cli(args: argparse.Namespace) -> int:
    """Entry point of ``hems backtest``: every input and output is checked first."""
    json_out = None if args.json_out is None else user_path(args.json_out)
    plot_out = None if args.plot is None else user_path(args.plot)
    if json_out is not None:
        check_output(json_out, "--json")
    if plot_out is not None:
        check_output(plot_out, "--plot")
        if importlib.util.find_spec("matplotlib") is None:
            raise ProblemError(
                "--plot",
                "needs matplotlib, which is not installed (pip install matplotlib)",
            )
    household = _read_household(args.household)
    sources = _sources(args)
    first, last = _days(args, sources.prices, household.timezone)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    results = replay(household, sources, first, last, progress=progress)
    sys.stdout.write(report(results, quiet=args.quiet) + "\n")
    if json_out is not None:
        try:
            json_out.write_text(results_json(results), encoding="utf-8")
        except OSError as err:  # e.g. the disk filled up during the replay
            raise ProblemError(
                f"--json: {shown(json_out)}", err.strerror or str(err)
            ) from None
    if plot_out is not None:
        plot(results, plot_out)
    return 0
