"""``hems plan`` over hostile JSON: a plan in strict JSON or one error line.

A valid problem with every kind of load is mutated (values replaced by
hostile ones, keys removed or added, the text cut or corrupted) and fed to the
command's ``main``; any exception is a bug.
"""

import contextlib
import copy
import io
import json
from pathlib import Path
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.hems.planner.cli import main

VALID: dict[str, Any] = {
    "slot_minutes": 30,
    "slots": [
        {"start": "2024-01-10T17:00:00Z", "price": 12.5},
        {"start": "2024-01-10T17:30:00Z", "price": -1.0},
        {"start": "2024-01-10T18:00:00Z", "price": 30.0},
        {"start": "2024-01-10T18:30:00Z", "price": 4.0},
    ],
    "base_load_kw": [0.3, 0.4, 0.5, 0.4],
    "import_limit_kw": 9.0,
    "loads": [
        {
            "id": "car",
            "type": "interruptible",
            "power_kw": 7.0,
            "slots": 2,
            "window": {"start": "2024-01-10T17:00:00Z", "end": "2024-01-10T19:00:00Z"},
            "max_price": 20.0,
            "opportunistic_price": 0.0,
        },
        {"id": "dw", "type": "cycle", "profile_kwh": [0.9, 0.1], "max_cost": 40},
        {
            "id": "bat",
            "type": "battery",
            "capacity_kwh": 4,
            "soc_kwh": 1,
            "min_soc_kwh": 0.5,
            "charge_kw": 2.5,
            "discharge_kw": 2.5,
            "efficiency": 0.9,
        },
    ],
}

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -(10**400), 2**63, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 1e9, 1e9 + 1, -0.0]),
    st.text(max_size=12),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:30:00Z",
            "2024-01-10T17:00:00",
            "2024-01-10T17:15:00Z",
            "interruptible",
            "battery",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.just([[[[[[[]]]]]]]),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _hostile(data: st.DataObject) -> Any:
    return copy.deepcopy(data.draw(HOSTILE))  # st.just values are shared


def _mutate(data: st.DataObject, doc: Any) -> Any:
    path = data.draw(st.sampled_from(_paths(doc)))
    if not path:
        return _hostile(data)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    action = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = _hostile(data)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=8))] = _hostile(data)
    else:
        parent.append(_hostile(data))
    return doc


def _text(data: st.DataObject, doc: Any) -> bytes:
    raw = json.dumps(doc).encode()  # NaN and Infinity tokens stay in: hostile too
    damage = data.draw(st.sampled_from(["none", "none", "cut", "byte"]))
    if damage == "cut":
        return raw[: data.draw(st.integers(0, len(raw)))]
    if damage == "byte":
        at = data.draw(st.integers(0, len(raw)))
        return raw[:at] + bytes([data.draw(st.integers(0, 255))]) + raw[at:]
    return raw


def _strict(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_plan_answers_hostile_json_with_a_plan_or_one_error_line(
    data: st.DataObject,
) -> None:
    doc = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 3))):
        doc = _mutate(data, doc)
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "problem.json"
        path.write_bytes(_text(data, doc))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(["plan", str(path)])
    if status == 0:
        plan = json.loads(out.getvalue(), parse_constant=_strict)
        assert set(plan) >= {"cost", "loads", "explain", "slots"}
        assert err.getvalue() == ""
    else:
        assert status == 2  # bad input
        assert out.getvalue() == ""
        assert err.getvalue().startswith("hems: error: ")
        assert err.getvalue().count("\n") == 1
