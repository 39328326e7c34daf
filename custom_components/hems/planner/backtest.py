"""Replay a price history day by day, as a household running hems would.

Every local day D at the plan time (16:45) the household plans every slot whose
price is then known (until 23:00 on D+1) and commits the first 24 hours
[17:00 D, 17:00 D+1); the battery's SoC carries over to the next day.  The same
is done with the simple per-device rules and priced at a flat tariff.
"""

import argparse
import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import gzip
import importlib.util
import json
import math
from pathlib import Path
import sys
import time
from typing import Any, TextIO
import zlib
from zoneinfo import ZoneInfo

from .errors import ProblemError
from .household import Household, battery_with_soc, parse_household, with_window
from .models import Battery, Decisions, Load, Problem, Slot
from .problem_io import show
from .rules import rule_decisions
from .simulate import simulate_detail
from .solve import plan
from .user_files import check_output, read_text, shown, user_path
from .validation import MAX_MAGNITUDE

SLOT = timedelta(minutes=30)


def _price_row(row: dict[str | None, Any], where: str) -> tuple[datetime, float]:
    start_text, value_text = row.get("valid_from_utc"), row.get("value_inc_vat")
    if not isinstance(start_text, str) or not isinstance(value_text, str):
        raise ProblemError(where, "missing fields")
    try:
        start = datetime.fromisoformat(start_text)
        start = start.replace(tzinfo=start.tzinfo or UTC).astimezone(UTC)
    except ValueError, OverflowError:
        raise ProblemError(where, f"not a UTC time: {show(start_text)}") from None
    try:
        price = float(value_text)
    except ValueError:
        raise ProblemError(where, f"not a price: {show(value_text)}") from None
    if not math.isfinite(price) or abs(price) > MAX_MAGNITUDE:
        raise ProblemError(where, f"price out of range: {show(value_text)}")
    return start, price


def _price_rows(handle: TextIO, where: str) -> dict[datetime, float]:
    reader = csv.DictReader(handle)
    missing = {"valid_from_utc", "value_inc_vat"} - set(reader.fieldnames or ())
    if missing:
        raise ProblemError(where, f"no column {', '.join(sorted(missing))}")
    return dict(
        _price_row(row, f"{where}: line {line}")
        for line, row in enumerate(reader, start=2)
    )


def read_prices(path: Path) -> dict[datetime, float]:
    """Agile CSV (valid_from_utc, valid_to_utc, value_inc_vat) -> UTC start -> p/kWh.

    Gzip-compressed when the name ends in ``.gz``.  A start without a UTC
    offset is UTC; a later row for the same start wins.
    """
    where = f"--prices: {shown(path)}"
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
                return _price_rows(handle, where)
        with path.open(encoding="utf-8", newline="") as handle:
            return _price_rows(handle, where)
    except OSError as err:  # gzip.BadGzipFile too
        raise ProblemError(where, err.strerror or str(err)) from None
    except (UnicodeDecodeError, csv.Error, EOFError, zlib.error) as err:
        raise ProblemError(where, f"not an Agile price CSV: {err}") from None


@dataclass(frozen=True, kw_only=True, slots=True)
class Tally:
    """Energy (kWh) and cost (p) of one strategy over a period."""

    energy: float = 0.0
    cost: float = 0.0

    @property
    def average(self) -> float:
        """Weighted average price, p/kWh."""
        return self.cost / self.energy if self.energy else 0.0

    def __add__(self, other: Tally) -> Tally:
        """Sum two tallies."""
        return Tally(energy=self.energy + other.energy, cost=self.cost + other.cost)


@dataclass(frozen=True, kw_only=True, slots=True)
class DayResult:
    """One replayed day."""

    day: date
    slots: int
    hems: Tally
    rules: Tally
    flat: Tally
    plan_ms: float
    limit_violation_kwh: float
    prices: tuple[float, ...]
    hems_import_kw: tuple[float, ...]


def _horizon(
    prices: dict[datetime, float], start: datetime, end: datetime
) -> list[Slot]:
    slots: list[Slot] = []
    moment = start
    while moment < end and moment in prices:
        slots.append(Slot(start=moment, price=prices[moment]))
        moment += SLOT
    return slots


def _committed(
    problem: Problem, decisions: Decisions, count: int
) -> tuple[Problem, Decisions]:
    """Cut a problem and its decisions to the first ``count`` slots."""
    base = problem.base_load_kw
    short = Problem(
        slot_minutes=problem.slot_minutes,
        slots=problem.slots[:count],
        base_load_kw=base[:count] if isinstance(base, tuple) else base,
        import_limit_kw=problem.import_limit_kw,
        loads=problem.loads,
    )
    return short, Decisions(
        on={k: v[:count] for k, v in decisions.on.items()},
        start=dict(decisions.start),
        mode={k: v[:count] for k, v in decisions.mode.items()},
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
    return Problem(
        slots=tuple(slots),
        base_load_kw=tuple(household.base_at(s.start) for s in slots),
        import_limit_kw=household.import_limit_kw,
        loads=tuple(loads),
    )


def replay(
    household: Household,
    prices: dict[datetime, float],
    first: date,
    last: date,
    *,
    progress: bool = False,
) -> list[DayResult]:
    """Replay every local day from ``first`` to ``last`` inclusive."""
    results: list[DayResult] = []
    soc_hems: float | None = None
    soc_rules: float | None = None
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
        slots = _horizon(prices, begin, max(horizon_end, end))
        count = round((end - begin) / SLOT)
        if progress:
            _bar(n + 1, days)
        if len(slots) < count:
            continue  # prices missing: the day cannot be replayed
        problem = _day_problem(household, slots, begin, end, soc_hems)
        started = time.perf_counter()
        result = plan(problem, best_effort=True)
        ms = 1000 * (time.perf_counter() - started)
        short, decisions = _committed(problem, result.decisions, count)
        sim = simulate_detail(short, decisions)
        rules_problem = _day_problem(household, slots, begin, end, soc_rules)
        rules = rule_decisions(rules_problem, discharge_above=household.discharge_above)
        short_rules, rules_committed = _committed(rules_problem, rules, count)
        rules_sim = simulate_detail(short_rules, rules_committed)
        if sim.soc_kwh:
            soc_hems = sim.soc_kwh[-1]
            soc_rules = rules_sim.soc_kwh[-1]
        demand = sum(
            kwh
            for load_id, row in rules_sim.load_kwh.items()
            if not any(
                isinstance(s.load, Battery) and s.load.id == load_id
                for s in household.loads
            )
            for kwh in row
        ) + sum(kw * short.slot_hours for kw in short.base_kw)
        results.append(
            DayResult(
                day=day,
                slots=count,
                hems=Tally(energy=sum(sim.net_import_kwh), cost=sim.cost),
                rules=Tally(energy=sum(rules_sim.net_import_kwh), cost=rules_sim.cost),
                flat=Tally(energy=demand, cost=demand * household.flat_price),
                plan_ms=ms,
                limit_violation_kwh=result.limit_violation_kwh,
                prices=tuple(short.prices),
                hems_import_kw=tuple(
                    kwh / short.slot_hours for kwh in sim.net_import_kwh
                ),
            )
        )
    if progress:
        sys.stderr.write("\n")
    return results


def _bar(done: int, total: int) -> None:
    width = 40
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days")
    sys.stderr.flush()


def _total(results: list[DayResult], name: str) -> Tally:
    total = Tally()
    for r in results:
        total += getattr(r, name)
    return total


def report(results: list[DayResult], *, quiet: bool = False) -> str:
    """Format a text table per day and the totals."""
    head = (
        f"{'day':<10} {'slots':>5} {'kWh':>7} {'hems p':>9} {'p/kWh':>6} "
        f"{'rules p':>9} {'p/kWh':>6} {'flat p':>9} {'ms':>6}"
    )
    lines = [] if quiet else [head]
    lines.extend(
        f"{r.day.isoformat():<10} {r.slots:>5} {r.hems.energy:>7.2f} "
        f"{r.hems.cost:>9.2f} {r.hems.average:>6.2f} {r.rules.cost:>9.2f} "
        f"{r.rules.average:>6.2f} {r.flat.cost:>9.2f} {r.plan_ms:>6.1f}"
        for r in ([] if quiet else results)
    )
    times = sorted(r.plan_ms for r in results) or [0.0]
    lines.append(f"days replayed: {len(results)}")
    for name in ("hems", "rules", "flat"):
        t = _total(results, name)
        lines.append(
            f"{name:<5}: {t.energy:10.1f} kWh {t.cost / 100:10.2f} GBP "
            f"{t.average:6.2f} p/kWh"
        )
    median = times[len(times) // 2]
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    lines.append(f"plan time: median {median:.1f} ms, p95 {p95:.1f} ms")
    violations = sum(1 for r in results if r.limit_violation_kwh > 0)
    if violations:
        lines.append(f"days over the import limit (best effort): {violations}")
    return "\n".join(lines)


def plot(results: list[DayResult], path: Path) -> None:
    """Write a PNG of prices and the planned import."""
    try:
        import matplotlib as mpl  # noqa: PLC0415

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise ProblemError(
            "--plot", "needs matplotlib (pip install matplotlib)"
        ) from None
    prices = [p for r in results for p in r.prices]
    load = [kw for r in results for kw in r.hems_import_kw]
    fig, ax = plt.subplots(figsize=(12, 4))
    ax.plot(prices, color="tab:orange", label="price p/kWh")
    ax.set_xlabel("half-hour slot from the first day's 17:00")
    ax.set_ylabel("p/kWh")
    twin = ax.twinx()
    twin.fill_between(range(len(load)), load, step="post", alpha=0.4, label="import kW")
    twin.set_ylabel("planned import kW")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


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


def _results_json(results: list[DayResult]) -> str:
    return json.dumps(
        [
            {
                "day": r.day.isoformat(),
                "slots": r.slots,
                "hems": {"kwh": r.hems.energy, "cost": r.hems.cost},
                "rules": {"kwh": r.rules.energy, "cost": r.rules.cost},
                "flat": {"kwh": r.flat.energy, "cost": r.flat.cost},
                "plan_ms": r.plan_ms,
            }
            for r in results
        ],
        indent=1,
        allow_nan=False,
    )


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
    prices = read_prices(user_path(args.prices))
    if not prices:
        raise ProblemError("--prices", "no prices")
    first, last = _days(args, prices, household.timezone)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    results = replay(household, prices, first, last, progress=progress)
    sys.stdout.write(report(results, quiet=args.quiet) + "\n")
    if json_out is not None:
        try:
            json_out.write_text(_results_json(results), encoding="utf-8")
        except OSError as err:  # e.g. the disk filled up during the replay
            raise ProblemError(
                f"--json: {shown(json_out)}", err.strerror or str(err)
            ) from None
    if plot_out is not None:
        plot(results, plot_out)
    return 0
