"""``scripts/hems`` takes any path, runs the planner on its own, keeps settings.

The chroot cases run the real ``scripts/_env.sh`` path of a host whose python3
is too old (see ``run_cli.in_root``): files in the caller's folders outside
the repository's parent, the caller's ``/tmp`` and stdin must reach the
planner, relative paths from the caller's directory.
"""

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

from custom_components.hems.planner import parse_problem, plan
from tests.conftest import AGILE_CSV_GZ, PROFILES_CSV, REPO, agile_csv_text

from .run_cli import ENV_SH, hems, hems_in_root, in_root

PROBLEM = {
    "slots": [
        {"start": "2024-01-10T17:00:00Z", "price": 12.5},
        {"start": "2024-01-10T17:30:00Z", "price": 4.0},
        {"start": "2024-01-10T18:00:00Z", "price": 9.0},
    ],
    "loads": [{"id": "car", "type": "interruptible", "power_kw": 7, "slots": 1}],
}
HOUSEHOLD = """
base_load_kw: 0.35
profiles: data/profiles.csv   # relative to this file
loads:
  - {id: car, type: interruptible, power_kw: 7, hours: 3}
  - {id: dishwasher, type: cycle, profile: DW_0927Wh_LO_7709s_MI_MI}
"""


def agile_days(first: str, last: str) -> str:
    """Return the region A price CSV rows starting in [first, last) (UTC)."""
    lines = agile_csv_text().splitlines(keepends=True)
    return lines[0] + "".join(line for line in lines[1:] if first <= line[:10] < last)


def household_folder(folder: Path) -> Path:
    (folder / "data").mkdir(parents=True)
    shutil.copy(PROFILES_CSV, folder / "data" / "profiles.csv")
    path = folder / "household.yaml"
    path.write_text(HOUSEHOLD, encoding="utf-8")
    return path


def test_plan_relative_path_from_a_folder_outside_the_repo(tmp_path: Path) -> None:
    """``/tmp`` of the caller, not the root's private one; the caller's folder."""
    caller = tmp_path / "caller"
    caller.mkdir()
    (caller / "problem.json").write_text(json.dumps(PROBLEM), encoding="utf-8")
    done = hems_in_root(tmp_path, "plan", "problem.json", cwd=caller)
    assert done.plan()["loads"]["car"]["on"] == [False, True, False]
    absolute = hems_in_root(tmp_path, "plan", str(caller / "problem.json"), cwd=REPO)
    assert absolute.plan() == done.plan()


def test_plan_reads_the_callers_stdin_through_the_root(tmp_path: Path) -> None:
    stdin = json.dumps(PROBLEM).encode()
    done = hems_in_root(tmp_path, "plan", "-", cwd=tmp_path, stdin=stdin)
    assert done.plan()["cost"] == pytest.approx(plan(parse_problem(PROBLEM)).cost)


def test_backtest_inputs_and_outputs_outside_the_repo(tmp_path: Path) -> None:
    """Household, its profiles (relative to it), prices, JSON and PNG outputs."""
    household = household_folder(tmp_path / "home")
    prices = tmp_path / "prices" / "agile.csv"
    prices.parent.mkdir()
    prices.write_text(agile_days("2020-03-27", "2020-03-31"), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    done = hems_in_root(
        tmp_path,
        "backtest",
        "--prices",
        "../prices/agile.csv",
        "--household",
        str(household),
        "--json",
        "days.json",
        "--plot",
        str(out / "plot.png"),
        "--quiet",
        cwd=out,
    )
    assert done.status == 0, done.err
    days = json.loads((out / "days.json").read_text(encoding="utf-8"))
    assert [day["slots"] for day in days] == [48, 46, 48]  # 28 March: spring forward
    assert (out / "plot.png").read_bytes().startswith(b"\x89PNG")
    assert "days replayed: 3" in done.out


def test_settings_with_spaces_and_newlines_reach_the_command(tmp_path: Path) -> None:
    """PYTEST_CURRENT_TEST ("path::test (call)") used to end in exit 127."""
    assert " " in os.environ["PYTEST_CURRENT_TEST"]
    probe = "two  words\nand a second line"
    command = ["/bin/bash", "-c", 'source "$0" && hems_env_run env', str(ENV_SH)]
    done = in_root(tmp_path, command, cwd=REPO, env={"HEMS_PROBE": probe})
    assert done.status == 0, done.err
    assert f"\nHEMS_PROBE={probe}\n" in done.out
    test = os.environ["PYTEST_CURRENT_TEST"]
    assert f"\nPYTEST_CURRENT_TEST={test}\n" in done.out
    assert "\nHEMS_IN_ENV=1\n" in done.out


def test_plot_with_the_planner_on_its_own(tmp_path: Path) -> None:
    """Matplotlib imports the standard library's calendar, not the platform."""
    household = household_folder(tmp_path)
    done = hems(
        "backtest",
        "--prices",
        str(AGILE_CSV_GZ),
        "--household",
        str(household),
        "--from",
        "2020-06-01",
        "--to",
        "2020-06-01",
        "--plot",
        str(tmp_path / "plot.png"),
        cwd=tmp_path,
    )
    assert done.status == 0, done.err
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")


def test_planner_process_has_neither_home_assistant_nor_the_integration_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(PROBLEM), encoding="utf-8")
    integration = str(REPO / "custom_components" / "hems")
    code = (
        "import calendar, runpy, select, sys\n"
        "sys.argv = ['hems', 'plan', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0] and SCRIPT, run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0\n"
        "assert not any(m.startswith('homeassistant') for m in sys.modules)\n"
        "assert 'custom_components.hems' not in str(calendar.__file__)\n"
        "assert not any(p.startswith(INTEGRATION) for p in sys.path)\n"
    ).replace("SCRIPT", repr(str(REPO / "scripts" / "hems_planner.py")))
    code = code.replace("INTEGRATION", repr(integration))
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-P", "-c", code, str(path)],
        cwd=REPO / "custom_components" / "hems",  # calendar.py right here
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["loads"]["car"]["on"] == [False, True, False]


def test_paths_under_the_roots_own_folders_are_read_from_the_host(
    tmp_path: Path,
) -> None:
    """``/etc/...`` is the root's; the caller's is under ``$HEMS_HOST_ROOT``."""
    host = tmp_path / "host"
    (host / "etc" / "hems").mkdir(parents=True)
    (host / "etc" / "hems" / "p.json").write_text(json.dumps(PROBLEM), "utf-8")
    env = {**os.environ, "HEMS_HOST_ROOT": str(host)}
    runner = [sys.executable, "-P", str(REPO / "scripts" / "hems_planner.py")]
    done = subprocess.run(  # noqa: S603
        [*runner, "plan", "/etc/hems/p.json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["loads"]["car"]["on"] == [False, True, False]
    missing = subprocess.run(  # noqa: S603
        [*runner, "plan", "/etc/hems/missing.json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert missing.returncode == 2
    assert missing.stderr == (
        "hems: error: /etc/hems/missing.json: No such file or directory\n"
    )
    # relative, climbing from the caller's folder into /etc: the caller's /etc
    caller = tmp_path / "caller"
    caller.mkdir()
    climb = "../" * (len(caller.parts) - 1) + "etc/hems/p.json"
    relative = subprocess.run(  # noqa: S603
        [*runner, "plan", climb],
        cwd=caller,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert relative.returncode == 0, relative.stderr
    assert json.loads(relative.stdout) == json.loads(done.stdout)
