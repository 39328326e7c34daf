"""The backtest command on real Agile days, including both clock-change days."""

import json
from pathlib import Path
import sys

import pytest

from custom_components.hems.planner.cli import main
from tests.conftest import AGILE_CSV_GZ, PROFILES_CSV

HOUSEHOLD = f"""
timezone: Europe/London
plan_time: "16:45"
flat_price: 24.5
base_load_kw: 0.35
profiles: {PROFILES_CSV}
loads:
  - {{id: car, type: interruptible, power_kw: 7, hours: 3,
      window: {{start: "18:00", end: "07:00"}}}}
  - {{id: dishwasher, type: cycle, profile: DW_0927Wh_LO_7709s_MI_MI,
      window: {{start: "19:00", end: "07:00"}}}}
"""


def run(tmp_path: Path, household: str, *args: str) -> tuple[int, list[dict]]:
    path = tmp_path / "household.yaml"
    path.write_text(household)
    out = tmp_path / "days.json"
    status = main(
        [
            "backtest",
            "--prices",
            str(AGILE_CSV_GZ),
            "--household",
            str(path),
            "--json",
            str(out),
            "--no-progress",
            *args,
        ]
    )
    return status, json.loads(out.read_text()) if out.exists() else []


def test_clock_change_days_and_totals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spring (46 slots) and autumn (50 slots) days; hems never costs more."""
    status, days = run(
        tmp_path, HOUSEHOLD, "--from", "2020-03-28", "--to", "2020-03-29"
    )
    assert status == 0
    assert [day["slots"] for day in days] == [46, 48]
    status, autumn = run(
        tmp_path, HOUSEHOLD, "--from", "2020-10-24", "--to", "2020-10-24"
    )
    assert status == 0
    assert autumn[0]["slots"] == 50
    for day in days + autumn:
        # The same energy: 3 h of car at 7 kW plus one dishwasher cycle.
        assert day["hems"]["kwh"] == pytest.approx(day["rules"]["kwh"])
        assert day["hems"]["kwh"] > 21
        assert day["hems"]["cost"] <= day["rules"]["cost"] + 1e-6
        assert day["flat"]["cost"] == pytest.approx(day["hems"]["kwh"] * 24.5)
    assert "hems" in capsys.readouterr().out


def test_bad_household_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = run(tmp_path, "loads: [{id: car, type: kettle}]\n")
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("hems: error: ")
    assert err.count("\n") == 1
    status, _ = run(tmp_path, HOUSEHOLD, "--from", "2020-03-29", "--to", "2020-03-28")
    assert status == 2
    assert "--to" in capsys.readouterr().err


def test_plot_without_matplotlib_fails_first(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--plot`` names the missing package on one line before replaying."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    status, days = run(
        tmp_path,
        HOUSEHOLD,
        "--from",
        "2020-03-28",
        "--to",
        "2020-03-28",
        "--plot",
        str(tmp_path / "plot.png"),
    )
    assert status == 2
    assert days == []  # nothing was replayed
    captured = capsys.readouterr()
    assert captured.err.startswith("hems: error: --plot: needs matplotlib")
    assert captured.err.count("\n") == 1
    assert not (tmp_path / "plot.png").exists()


def test_plot_is_written_with_matplotlib(tmp_path: Path) -> None:
    out = tmp_path / "plot.png"
    status, _ = run(
        tmp_path,
        HOUSEHOLD,
        "--from",
        "2020-03-28",
        "--to",
        "2020-03-28",
        "--plot",
        str(out),
    )
    assert status == 0
    assert out.read_bytes().startswith(b"\x89PNG")
