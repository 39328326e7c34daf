"""The backtest's outputs: the text report, the JSON (``--json``) and the plot."""

from dataclasses import fields
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .booking import Booked
from .errors import ProblemError

if TYPE_CHECKING:
    from .backtest import DayResult

STRATEGIES = ("hems", "rules", "no_control", "flat")


def total(results: list[DayResult], name: str) -> Booked:
    """Sum one strategy's days."""
    summed = Booked()
    for r in results:
        summed += getattr(r, name)
    return summed


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(results: list[DayResult], *, quiet: bool = False) -> str:
    """Format a text table per day (hems's energies, every net cost) and the totals."""
    head = (
        f"{'day':<10} {'slots':>5} {'PV kWh':>6} {'import':>7} {'export':>7} "
        f"{'curtail':>7} {'hems p':>8} {'rules p':>8} {'no-ctl p':>8} "
        f"{'flat p':>8} {'ms':>6}"
    )
    lines = [] if quiet else [head]
    lines.extend(
        f"{r.day.isoformat():<10} {r.slots:>5} {r.hems.pv_kwh:>6.1f} "
        f"{r.hems.import_kwh:>7.2f} {r.hems.export_kwh:>7.2f} "
        f"{r.hems.curtailed_kwh:>7.2f} {r.hems.cost:>8.1f} {r.rules.cost:>8.1f} "
        f"{r.no_control.cost:>8.1f} {r.flat.cost:>8.1f} {r.plan_ms:>6.1f}"
        for r in ([] if quiet else results)
    )
    lines.append(f"days replayed: {len(results)}")
    lines.append(
        f"{'total':<10} {'import kWh':>10} {'export':>8} {'curtail':>8} "
        f"{'self-use':>8} {'import GBP':>10} {'export GBP':>10} {'net GBP':>9} "
        f"{'p/kWh in':>8}"
    )
    for name in STRATEGIES:
        t = total(results, name)
        lines.append(
            f"{name:<10} {t.import_kwh:>10.1f} {t.export_kwh:>8.1f} "
            f"{t.curtailed_kwh:>8.1f} {t.self_consumed_kwh:>8.1f} "
            f"{t.import_cost / 100:>10.2f} {t.export_revenue / 100:>10.2f} "
            f"{t.cost / 100:>9.2f} {t.average:>8.2f}"
        )
    times = [r.plan_ms for r in results]
    lines.append(
        f"plan time: median {_percentile(times, 0.5):.1f} ms, "
        f"p95 {_percentile(times, 0.95):.1f} ms, max {max(times, default=0.0):.1f} ms"
    )
    unproven = sum(1 for r in results if not r.optimal)
    if unproven:
        lines.append(f"plans not proven optimal (a limit stopped them): {unproven}")
    violations = sum(1 for r in results if r.limit_violation_kwh > 0)
    if violations:
        lines.append(f"days over the import limit (best effort): {violations}")
    return "\n".join(lines)


def _booked_json(booked: Booked) -> dict[str, float]:
    """Return the original keys (``kwh`` net import, ``cost`` net cost) and more."""
    return {"kwh": booked.energy, "cost": booked.cost} | {
        f.name: getattr(booked, f.name) for f in fields(booked)
    }


def results_json(results: list[DayResult]) -> str:
    """Return the ``--json`` document: one object per replayed day."""
    days: list[dict[str, Any]] = [
        {"day": r.day.isoformat(), "slots": r.slots}
        | {name: _booked_json(getattr(r, name)) for name in STRATEGIES}
        | {
            "plan_ms": r.plan_ms,
            "optimal": r.optimal,
            "limit_violation_kwh": r.limit_violation_kwh,
            "soc_end_kwh": r.soc_end,
            "horizon_cost": r.horizon,
        }
        for r in results
    ]
    return json.dumps(days, indent=1, allow_nan=False)


def plot(results: list[DayResult], path: Path) -> None:
    """Write a PNG: import and export prices, PV, hems's import and export."""
    try:
        import matplotlib as mpl  # noqa: PLC0415

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise ProblemError(
            "--plot", "needs matplotlib (pip install matplotlib)"
        ) from None

    def series(name: str) -> list[float]:
        return [v for r in results for v in getattr(r, name)]

    slots = range(len(series("prices")))
    fig, (ax, power) = plt.subplots(2, 1, figsize=(12, 6), sharex=True)
    ax.plot(slots, series("prices"), color="tab:orange", label="import price")
    exports = series("export_prices")
    if any(exports):
        ax.plot(slots, exports, color="tab:green", label="export price")
    ax.set_ylabel("p/kWh")
    ax.legend(loc="upper left")
    pv = series("pv_kw")
    if any(pv):
        power.fill_between(slots, pv, step="post", color="gold", alpha=0.5, label="PV")
    power.fill_between(
        slots, series("hems_import_kw"), step="post", alpha=0.4, label="import"
    )
    power.fill_between(
        slots,
        [-kw for kw in series("hems_export_kw")],
        step="post",
        color="tab:green",
        alpha=0.4,
        label="export (-)",
    )
    power.set_ylabel("kW (hems)")
    power.set_xlabel("half-hour slot from the first day's 17:00")
    power.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
