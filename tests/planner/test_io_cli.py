"""Problem/plan JSON contract and the command line."""

import json

import pytest

from custom_components.hems.planner import (
    InfeasibleError,
    ProblemError,
    parse_problem,
    plan,
    plan_to_json,
    problem_to_json,
    simulate,
)
from custom_components.hems.planner.cli import main
from custom_components.hems.planner.feasibility import violations


def problem_json(**over: object):
    data = {
        "slot_minutes": 30,
        "slots": [
            {
                "start": f"2024-01-10T{17 + i // 2:02d}:{30 * (i % 2):02d}:00Z",
                "price": p,
            }
            for i, p in enumerate([12.31, 30.0, 5.0, 4.0, -1.0, 8.0])
        ],
        "base_load_kw": 0.4,
        "import_limit_kw": 9.0,
        "loads": [
            {
                "id": "car",
                "type": "interruptible",
                "power_kw": 7.0,
                "slots": 2,
                "window": {
                    "start": "2024-01-10T18:00:00Z",
                    "end": "2024-01-10T20:00:00Z",
                },
                "max_price": None,
            },
            {
                "id": "dw",
                "type": "cycle",
                "profile_kwh": [0.9, 0.1],
                "window": None,
                "max_cost": 40.0,
            },
            {
                "id": "bat",
                "type": "battery",
                "capacity_kwh": 4,
                "soc_kwh": 1,
                "min_soc_kwh": 0,
                "charge_kw": 2.5,
                "discharge_kw": 2.5,
                "efficiency": 0.9,
            },
        ],
    }
    data.update(over)
    return data


def test_round_trip_and_plan_json_shape():
    problem = parse_problem(problem_json())
    assert parse_problem(problem_to_json(problem)) == problem
    result = plan(problem)
    assert not violations(problem, result.decisions)
    out = plan_to_json(result)
    assert set(out) >= {"cost", "loads", "explain", "slots"}
    assert out["cost"] == pytest.approx(simulate(problem, result.decisions), abs=1e-5)
    assert out["loads"]["car"]["on"] == [False, False, False, True, True, False]
    assert out["loads"]["dw"]["start"] in out["slots"]
    assert len(out["loads"]["bat"]["mode"]) == 6
    assert set(out["explain"]["loads"]) == {"car", "dw", "bat"}
    assert max(out["net_import_kw"]) <= 9.0 + 1e-9


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "slots": [
                    {"start": "2024-01-10T18:00:00Z", "price": 1},
                    {"start": "2024-01-10T17:30:00Z", "price": 1},
                ]
            },
            "slots[1].start",
        ),
        (
            {
                "slots": [
                    {"start": "2024-01-10T17:00:00Z", "price": 1},
                    {"start": "2024-01-10T18:00:00Z", "price": 1},
                ]
            },
            "slots[1].start",
        ),
        ({"loads": [{"id": "x", "type": "heatpump"}]}, "loads[0].type"),
        (
            {
                "loads": [
                    {"id": "x", "type": "interruptible", "power_kw": -1, "slots": 1}
                ]
            },
            "loads[0].power_kw",
        ),
        (
            {
                "loads": [
                    {
                        "id": "x",
                        "type": "interruptible",
                        "power_kw": 1,
                        "slots": 1,
                        "window": {
                            "start": "2025-01-01T00:00:00Z",
                            "end": "2025-01-02T00:00:00Z",
                        },
                    }
                ]
            },
            "loads[0].window",
        ),
        (
            {"loads": [{"id": "x", "type": "cycle", "profile_kwh": [1], "oops": 1}]},
            "loads[0].oops",
        ),
        ({"slots": [{"start": "2024-01-10T17:00:00", "price": 1}]}, "slots[0].start"),
        ({"base_load_kw": [1, 2]}, "base_load_kw"),
    ],
)
def test_bad_input_names_the_field(change, field):
    data = problem_json(**change)
    if "slots" in change and "loads" not in change:
        data["loads"] = []
        data.pop("base_load_kw")
    with pytest.raises(ProblemError) as err:
        parse_problem(data)
    assert err.value.field == field
    assert str(err.value).startswith(field)


def test_unreachable_limit_is_infeasible_unless_best_effort():
    problem = parse_problem(problem_json(import_limit_kw=3.0))
    with pytest.raises(InfeasibleError, match="car"):
        plan(problem)
    best = plan(problem, best_effort=True)
    assert best.limit_violation_kwh > 0
    assert "best effort" in " ".join(best.notes)


def test_cli_plan_and_errors(tmp_path, capsys):
    good = tmp_path / "p.json"
    good.write_text(json.dumps(problem_json()))
    assert main(["plan", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["loads"]["dw"]["start"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(problem_json(import_limit_kw=3.0)))
    assert main(["plan", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hems: error: import_limit_kw:")
    assert err.count("\n") == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["plan", str(broken)]) == 2
    assert "invalid JSON" in capsys.readouterr().err
