"""Hostile input gets one line ``hems: error: FIELD: reason`` and exit 2.

Never a traceback, never output that is not JSON (``Infinity``, ``NaN``), and
the message names the real cause.  Each case runs ``scripts/hems``.
"""

import copy
import json
from pathlib import Path
import shutil
from typing import Any

import pytest

from custom_components.hems.planner import Problem
from custom_components.hems.planner.feasibility import limit_infeasibility
from tests.conftest import PROFILES_CSV

from .helpers import make_slots
from .run_cli import Done, hems
from .test_cli_paths import agile_days

PROBLEM: dict[str, Any] = {
    "slots": [
        {"start": "2024-01-10T17:00:00Z", "price": 12.5},
        {"start": "2024-01-10T17:30:00Z", "price": 4.0},
    ],
    "loads": [{"id": "car", "type": "interruptible", "power_kw": 7, "slots": 1}],
}
BATTERY = {
    "id": "battery",
    "type": "battery",
    "capacity_kwh": 5,
    "soc_kwh": 1,
    "charge_kw": 2,
    "discharge_kw": 2,
}


def problem(**change: Any) -> dict[str, Any]:
    data = copy.deepcopy(PROBLEM)
    data.update(change)
    return data


def plan_text(tmp_path: Path, text: str | bytes, *args: str) -> Done:
    path = tmp_path / "problem.json"
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return hems("plan", "problem.json", *args, cwd=tmp_path)


def plan_json(tmp_path: Path, data: dict[str, Any]) -> Done:
    return plan_text(tmp_path, json.dumps(data))


def digits(count: int) -> str:
    return "9" * count


def test_invalid_utf8_file_and_stdin(tmp_path: Path) -> None:
    text = b'{"slots": "\xff\xfe"}'
    done = plan_text(tmp_path, text)
    assert "not UTF-8 text (byte 0xff at offset 11)" in done.error("problem.json")
    piped = hems("plan", "-", cwd=tmp_path, stdin=text)
    assert "not UTF-8" in piped.error("-")


def test_deeply_nested_json(tmp_path: Path) -> None:
    done = plan_text(tmp_path, "[" * 200_000 + "]" * 200_000)
    assert done.error("problem.json").endswith("JSON nested too deeply")
    # deep, but not too deep for the parser: the message stays short
    nested = json.dumps(PROBLEM).replace("12.5", "[" * 5000 + "]" * 5000)
    message = plan_text(tmp_path, nested).error("slots[0].price")
    assert len(message) < 200


@pytest.mark.parametrize("count", [400, 5000])
def test_huge_integers(tmp_path: Path, count: int) -> None:
    text = json.dumps(PROBLEM).replace("12.5", digits(count))
    done = plan_text(tmp_path, text)
    if count < 4300:  # Python's digit limit
        assert "must be between -1e+09 and 1e+09" in done.error("slots[0].price")
    else:
        assert "integer of 5000 digits" in done.error("problem.json")


@pytest.mark.parametrize(
    ("starts", "field", "reason"),
    [
        (
            ["0001-01-01T00:00:00+01:00", "0001-01-01T00:30:00+01:00"],
            "slots[0].start",
            "outside the years 1 to 9999 in UTC",
        ),
        (
            ["9999-12-31T23:00:00Z", "9999-12-31T23:30:00Z"],
            "slots[1].start",
            "the slot would end after the year 9999",
        ),
        (  # descending, at the very end: checked before the order
            ["9999-12-31T23:30:00Z", "9999-12-31T23:00:00Z"],
            "slots[0].start",
            "the slot would end after the year 9999",
        ),
    ],
)
def test_times_near_year_1_and_9999(
    tmp_path: Path, starts: list[str], field: str, reason: str
) -> None:
    slots = [{"start": start, "price": 1} for start in starts]
    window = {"start": "9999-12-31T23:00:00Z", "end": "9999-12-31T23:59:00Z"}
    load = PROBLEM["loads"][0] | {"window": window}
    assert reason in plan_json(tmp_path, problem(slots=slots, loads=[load])).error(
        field
    )


def test_earliest_times_plan(tmp_path: Path) -> None:
    slots = [
        {"start": "0001-01-01T00:00:00Z", "price": 3},
        {"start": "0001-01-01T00:30:00Z", "price": 1},
    ]
    out = plan_json(tmp_path, problem(slots=slots)).plan()
    assert out["slots"] == ["0001-01-01T00:00:00Z", "0001-01-01T00:30:00Z"]
    assert out["loads"]["car"]["on"] == [False, True]


def test_overflowing_power_is_bad_input_not_infinity(tmp_path: Path) -> None:
    load = PROBLEM["loads"][0] | {"power_kw": 1e308}
    done = plan_json(tmp_path, problem(loads=[load]))
    assert "got 1e+308" in done.error("loads[0].power_kw")


@pytest.mark.parametrize("loads", [[], [BATTERY]])
def test_huge_prices_are_named_not_a_missing_limit(
    tmp_path: Path, loads: list[dict[str, Any]]
) -> None:
    slots = [
        {"start": "2024-01-10T17:00:00Z", "price": 1.7e308},
        {"start": "2024-01-10T17:30:00Z", "price": -1.7e308},
    ]
    done = plan_json(tmp_path, problem(slots=slots, loads=PROBLEM["loads"] + loads))
    message = done.error("slots[0].price")
    assert "import_limit_kw" not in message


def test_no_limit_is_never_explained_as_a_zero_limit() -> None:
    unlimited = Problem(slots=make_slots([1.0, 2.0]), import_limit_kw=None)
    message = limit_infeasibility(unlimited)
    assert "0 kW" not in message
    assert message.startswith("none is set")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"loads": [{"id": "x", "type": ["interruptible"]}]}, "loads[0].type"),
        ({"slots": [{"start": 5, "price": 1}]}, "slots[0].start"),
        ({"slot_minutes": 10**400}, "slot_minutes"),
        ({"base_load_kw": [1e400, 1]}, "base_load_kw[0]"),
    ],
)
def test_wrong_types_and_values(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    plan_json(tmp_path, problem(**change)).error(field)


def test_control_characters_in_a_field_name_stay_on_one_line(tmp_path: Path) -> None:
    done = plan_text(tmp_path, '{"slots": [], "\\n\\u001b[31m": 1}')
    assert done.error("\\n\\x1b[31m").endswith("unknown field")


def test_bad_command_line_is_one_line(tmp_path: Path) -> None:
    hems("plan", "--solver", "fastest", "x.json", cwd=tmp_path).error(
        "argument --solver"
    )
    hems("plan", "--indent", "1000000000", "x.json", cwd=tmp_path).error(
        "argument --indent"
    )


# --- backtest ----------------------------------------------------------------

HOUSEHOLD = """
base_load_kw: 0.35
profiles: profiles.csv
loads:
  - {id: car, type: interruptible, power_kw: 7, hours: 3}
  - {id: dishwasher, type: cycle, profile: DW_0927Wh_LO_7709s_MI_MI}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Return a folder with a household, its profiles and prices of 1-5 June 2020."""
    shutil.copy(PROFILES_CSV, tmp_path / "profiles.csv")
    (tmp_path / "household.yaml").write_text(HOUSEHOLD, encoding="utf-8")
    (tmp_path / "prices.csv").write_text(
        agile_days("2020-06-01", "2020-06-06"), encoding="utf-8"
    )
    return tmp_path


def backtest(folder: Path, *args: str, household: str | None = None) -> Done:
    if household is not None:
        (folder / "household.yaml").write_text(household, encoding="utf-8")
    base = ["--prices", "prices.csv", "--household", "household.yaml", "--quiet"]
    return hems("backtest", *base, *args, cwd=folder)


@pytest.mark.parametrize("field", ["base_load_kw", "flat_price", "import_limit_kw"])
def test_text_where_numbers_belong(folder: Path, field: str) -> None:
    done = backtest(folder, household=f"{field}: lots\n" + HOUSEHOLD.split("\n", 2)[2])
    assert "must be a number, got 'lots'" in done.error(field)


@pytest.mark.parametrize("hours", [".inf", ".nan", "1.0e+308", "-.inf"])
def test_hours_that_are_not_finite(folder: Path, hours: str) -> None:
    done = backtest(folder, household=HOUSEHOLD.replace("hours: 3", f"hours: {hours}"))
    done.error("loads[0].hours")


def test_yaml_with_huge_integer_or_deep_nesting(folder: Path) -> None:
    huge = HOUSEHOLD.replace("power_kw: 7", f"power_kw: {digits(5000)}")
    assert "invalid YAML" in backtest(folder, household=huge).error(
        "--household: household.yaml"
    )
    big = HOUSEHOLD.replace("power_kw: 7", f"power_kw: {digits(400)}")
    backtest(folder, household=big).error("loads[0].power_kw")
    deep = HOUSEHOLD + "rules: " + "[" * 20_000 + "]" * 20_000 + "\n"
    backtest(folder, household=deep).error("--household: household.yaml")


def test_profiles_csv_missing_a_column(folder: Path) -> None:
    lines = PROFILES_CSV.read_text(encoding="utf-8").splitlines()
    cut = [",".join(line.split(",")[:4]) for line in lines]  # no energy_kwh
    (folder / "profiles.csv").write_text("\n".join(cut) + "\n", encoding="utf-8")
    assert backtest(folder).error("profiles").endswith("no column energy_kwh")


def test_profiles_csv_row_missing_fields(folder: Path) -> None:
    with (folder / "profiles.csv").open("a", encoding="utf-8") as handle:
        handle.write("DW_X,dishwasher\n")
    assert "not a profile row" in backtest(folder).error("profiles")


def test_price_row_missing_fields(folder: Path) -> None:
    lines = (folder / "prices.csv").read_text(encoding="utf-8").splitlines()
    lines.insert(50, "2020-06-02T01:00:00Z,2020-06-02T01:30:00Z")
    (folder / "prices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = backtest(folder).error("--prices: prices.csv: line 51")
    assert message.endswith("missing fields")


@pytest.mark.parametrize(
    "value", ["nan", "1e400", pytest.param(digits(5000), id="5000-digits"), "twelve"]
)
def test_price_that_is_not_a_price(folder: Path, value: str) -> None:
    text = (folder / "prices.csv").read_text(encoding="utf-8")
    first_value = text.splitlines()[1].rsplit(",", 1)[1]
    (folder / "prices.csv").write_text(
        text.replace(first_value, value, 1), encoding="utf-8"
    )
    backtest(folder).error("--prices: prices.csv: line 2")


def test_to_the_year_9999_replays_the_days_with_prices(folder: Path) -> None:
    done = backtest(folder, "--from", "0001-01-01", "--to", "9999-12-31")
    assert done.status == 0, done.err
    assert "days replayed: 4" in done.out  # the 5th has no prices to 17:00 next day
    beyond = backtest(folder, "--from", "9999-01-01", "--to", "9999-12-31")
    assert "the prices cover 2020-06-01 to 2020-06-06" in beyond.error("--from/--to")


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_output_into_a_missing_folder_fails_before_the_replay(
    folder: Path, option: str
) -> None:
    done = backtest(folder, option, "missing/out")
    assert done.error(f"{option}: missing/out").endswith(
        "folder missing does not exist"
    )
    (folder / "out").mkdir()
    assert (
        backtest(folder, option, "out").error(f"{option}: out").endswith("is a folder")
    )


def test_json_that_fails_while_written_is_one_line(folder: Path) -> None:
    """A full disk (/dev/full) passes the checks and fails on writing."""
    done = backtest(folder, "--json", "/dev/full")
    assert done.status == 2
    assert "days replayed: 4" in done.out  # the report came first
    assert done.err == "hems: error: --json: /dev/full: No space left on device\n"


def test_backtest_json_is_strict_json(folder: Path) -> None:
    done = backtest(folder, "--json", "days.json")
    assert done.status == 0, done.err
    days = json.loads(
        (folder / "days.json").read_text(encoding="utf-8"),
        parse_constant=lambda c: pytest.fail(f"{c} in the JSON"),
    )
    assert len(days) == 4
