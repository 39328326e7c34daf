"""``scripts/hems backtest`` with PV and export prices, as a user runs it."""

import csv
import json
from pathlib import Path
import shutil
from typing import Any

import pytest

from tests.conftest import PROFILES_CSV, REPO, agile_csv_text
from tests.planner.run_cli import Done, hems

JUNE_PV = REPO / "tests" / "fixtures" / "neso_pv_2020-06-01_2020-06-07.csv"

HOUSEHOLD = """
base_load_kw: 0.35
export_limit_kw: 2
pv: {kwp: 6, profile: pv.csv}
profiles: profiles.csv
loads:
  - {id: car, type: interruptible, power_kw: 7, hours: 3,
     window: {start: "18:00", end: "07:00"}}
  - {id: dishwasher, type: cycle, profile: DW_0927Wh_LO_7709s_MI_MI}
  - {id: battery, type: battery, capacity_kwh: 5, soc_kwh: 2.5, min_soc_kwh: 0.5,
     charge_kw: 2.5, discharge_kw: 2.5, efficiency: 0.9}
"""
BOOKED_KEYS = {
    "kwh",
    "cost",
    "import_kwh",
    "export_kwh",
    "curtailed_kwh",
    "self_consumed_kwh",
    "pv_kwh",
    "demand_kwh",
    "battery_loss_kwh",
    "soc_change_kwh",
    "import_cost",
    "export_revenue",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Return a folder: a household with PV, its files, 1-4 June 2020 prices.

    ``both.csv`` has the columns of a combined import and export file
    (``import_inc_vat``, ``export``; the export column holds the same real
    prices as the import one), ``import.csv`` is the Agile format.
    """
    shutil.copy(PROFILES_CSV, tmp_path / "profiles.csv")
    shutil.copy(JUNE_PV, tmp_path / "pv.csv")
    (tmp_path / "household.yaml").write_text(HOUSEHOLD, encoding="utf-8")
    rows = [
        row
        for row in csv.DictReader(agile_csv_text().splitlines())
        if "2020-06-01" <= row["valid_from_utc"][:10] <= "2020-06-04"
    ]
    with (tmp_path / "import.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["valid_from_utc", "valid_to_utc", "value_inc_vat"])
        writer.writerows(
            [r["valid_from_utc"], r["valid_to_utc"], r["value_inc_vat"]] for r in rows
        )
    with (tmp_path / "both.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["valid_from_utc", "valid_to_utc", "import_inc_vat", "export"])
        writer.writerows(
            [
                r["valid_from_utc"],
                r["valid_to_utc"],
                r["value_inc_vat"],
                r["value_inc_vat"],
            ]
            for r in rows
        )
    return tmp_path


def backtest(folder: Path, *args: str, household: str | None = None) -> Done:
    if household is not None:
        (folder / "household.yaml").write_text(household, encoding="utf-8")
    return hems("backtest", "--household", "household.yaml", *args, cwd=folder)


def days_json(folder: Path, *args: str) -> list[dict[str, Any]]:
    done = backtest(folder, *args, "--json", "days.json", "--quiet")
    assert done.status == 0, done.err
    days: list[dict[str, Any]] = json.loads(
        (folder / "days.json").read_text(encoding="utf-8")
    )
    for day in days:
        del day["plan_ms"]
    return days


def test_json_holds_every_strategy_breakdown_and_the_plot_is_written(
    folder: Path,
) -> None:
    done = backtest(
        folder, "--prices", "import.csv", "--json", "days.json", "--plot", "days.png"
    )
    assert done.status == 0, done.err
    assert "days replayed: 3" in done.out  # the 4th has no prices to 17:00 next day
    assert "no_control" in done.out
    days = json.loads((folder / "days.json").read_text(encoding="utf-8"))
    assert [d["day"] for d in days] == ["2020-06-01", "2020-06-02", "2020-06-03"]
    for day in days:
        for name in ("hems", "rules", "no_control", "flat"):
            assert set(day[name]) == BOOKED_KEYS
            assert day[name]["kwh"] == pytest.approx(
                day[name]["import_kwh"] - day[name]["export_kwh"]
            )
            assert day[name]["pv_kwh"] > 5
        assert day["hems"]["export_revenue"] == 0  # no export price given
        assert set(day["horizon_cost"]) == {"hems", "rules", "no_control"}
        assert set(day["soc_end_kwh"]) == {"hems", "rules", "no_control"}
        assert isinstance(day["optimal"], bool)
    assert (folder / "days.png").read_bytes().startswith(b"\x89PNG")


def test_one_file_with_both_columns_serves_both_options(folder: Path) -> None:
    both = days_json(folder, "--prices", "both.csv", "--export-prices", "both.csv")
    named = days_json(
        folder,
        "--prices",
        "import.csv",
        "--export-prices",
        "both.csv",
        "--export-column",
        "import_inc_vat",
    )
    assert both == named
    assert all(day["hems"]["export_revenue"] > 0 for day in both)
    plain = days_json(
        folder, "--prices", "both.csv", "--price-column", "import_inc_vat"
    )
    assert all(day["hems"]["export_revenue"] == 0 for day in plain)
    assert [d["hems"]["import_cost"] for d in plain] != [
        d["hems"]["import_cost"] for d in both
    ]


def test_price_column_errors_are_one_line(folder: Path) -> None:
    done = backtest(
        folder,
        "--prices",
        "import.csv",
        "--export-prices",
        "both.csv",
        "--export-column",
        "nope",
    )
    assert done.error("--export-prices: both.csv").endswith("no column nope")
    done = backtest(folder, "--prices", "import.csv", "--export-column", "export")
    assert done.error("--export-column").endswith("needs --export-prices")
    done = backtest(folder, "--prices", "pv.csv")
    assert done.error("--prices: pv.csv").endswith("no column valid_from_utc")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("2020-06-01T00:00:00Z,2020-06-01T00:30:00Z,-5,13080", "-0.00038"),
        ("2020-06-01T00:00:00Z,2020-06-01T00:30:00Z,5,0", "capacity must be above 0"),
        ("noon,2020-06-01T00:30:00Z,5,13080", "not a UTC time: 'noon'"),
        ("2020-06-01T00:00:00Z,2020-06-01T00:30:00Z,lots,13080", "not a generation"),
        ("2020-06-01T00:00:00Z,2020-06-01T00:30:00Z,,13080", "missing fields"),
    ],
)
def test_bad_pv_rows_name_the_line(folder: Path, row: str, reason: str) -> None:
    lines = JUNE_PV.read_text(encoding="utf-8").splitlines()
    lines.insert(3, row)
    (folder / "pv.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = backtest(folder, "--prices", "import.csv").error(
        "pv.profile: pv.csv: line 4"
    )
    assert reason in message


def test_simple_pv_csv_and_bad_pv_settings(folder: Path) -> None:
    per_kwp = [
        (
            row["interval_start_utc"],
            float(row["embedded_solar_generation_mw"])
            / float(row["embedded_solar_capacity_mw"]),
        )
        for row in csv.DictReader(JUNE_PV.read_text(encoding="utf-8").splitlines())
    ]
    (folder / "pv.csv").write_text(
        "start,kw_per_kwp\n" + "".join(f"{s},{v!r}\n" for s, v in per_kwp),
        encoding="utf-8",
    )
    simple = days_json(folder, "--prices", "import.csv")
    shutil.copy(JUNE_PV, folder / "pv.csv")
    neso = days_json(folder, "--prices", "import.csv")
    assert simple == neso
    (folder / "pv.csv").write_text("time,kw\n", encoding="utf-8")
    assert "needs columns start,kw_per_kwp" in backtest(
        folder, "--prices", "import.csv"
    ).error("pv.profile: pv.csv")
    for bad, field in [
        ("pv: {kwp: 6}", "pv"),
        ("pv: {kwp: -1, profile: pv.csv}", "pv.kwp"),
        ("pv: {kwp: 6, profile: pv.csv, year: soon}", "pv.year"),
        ("pv: {kwp: 6, profile: pv.csv, tilt: 30}", "pv.tilt"),
        ("pv: {kwp: 6, profile: missing.csv}", "pv.profile: missing.csv"),
    ]:
        household = HOUSEHOLD.replace("pv: {kwp: 6, profile: pv.csv}", bad)
        backtest(folder, "--prices", "import.csv", household=household).error(field)
