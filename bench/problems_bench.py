"""Time and peak memory of ``plan()`` on the problem files in bench/problems.

Run: source scripts/_env.sh; hems_env_run taskset -c 1 python bench/problems_bench.py
[FILE ...] [--repeat N] [--solver auto|dp|milp] [--time-limit S] [--memory-limit MB]
[--planner DIR]

``--planner DIR`` imports ``planner`` from DIR instead (e.g. an older version
extracted with ``git archive COMMIT custom_components/hems/planner | tar -x -C
DIR --strip-components=2``) to compare before and after.

Each plan runs in a fresh child process (so one plan's memory cannot hide
another's): after importing the planner and reading the file, the child plans
``--repeat`` times (the first run pays the imports of numpy and highspy).
Reported: the median wall time, the child's peak RSS (``ru_maxrss`` from
``wait4``) and its RSS before planning, the cost, whether the plan is proven
optimal and its gap.
"""

import argparse
import json
import os
from pathlib import Path
import resource
import statistics
import subprocess
import sys
import time

REPO = Path(__file__).resolve().parents[1]
PROBLEMS = REPO / "bench" / "problems"


def _child(path: str, args: argparse.Namespace) -> None:
    if args.planner:  # an older version, extracted as a top-level "planner"
        sys.path.insert(0, args.planner)
        from planner import parse_problem, plan  # noqa: PLC0415
    else:  # this one, as a package (no integration module on sys.path)
        sys.path.insert(0, str(REPO / "scripts"))
        from hems_planner import load_planner  # noqa: PLC0415

        load_planner()
        from custom_components.hems.planner import (  # noqa: PLC0415
            parse_problem,
            plan,
        )

    problem = parse_problem(json.loads(Path(path).read_text()))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kwargs: dict[str, float] = {}
    if args.time_limit is not None:
        kwargs["time_limit_s"] = args.time_limit
    if args.memory_limit is not None:
        kwargs["memory_limit_mb"] = args.memory_limit
    repeat, solver = args.repeat, args.solver
    times = []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = plan(problem, best_effort=True, solver=solver, **kwargs)
        times.append(time.perf_counter() - began)
    assert result is not None
    print(
        json.dumps(
            {
                "seconds": statistics.median(times),
                "rss_before_kb": before,
                "cost": result.cost,
                "method": result.method,
                "optimal": getattr(result, "optimal", None),
                "gap": getattr(result, "gap", None),
                "notes": list(result.notes),
            }
        )
    )


def main() -> None:
    """Print one line per problem file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="problem files (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--solver", default="auto")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--memory-limit", type=float, default=None)
    parser.add_argument("--planner", help="directory to import planner from")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args)
        return
    files = args.files or sorted(str(p) for p in PROBLEMS.glob("*.json"))
    print(
        f"{'problem':<34} {'s':>8} {'peak MB':>8} {'base MB':>8} {'cost p':>10} "
        f"{'optimal':>7} {'gap':>10}  notes",
        flush=True,
    )
    for path in files:
        cmd = [sys.executable, __file__, "--child", path]
        cmd += ["--repeat", str(args.repeat), "--solver", args.solver]
        for flag, value in (
            ("--time-limit", args.time_limit),
            ("--memory-limit", args.memory_limit),
            ("--planner", args.planner),
        ):
            if value is not None:
                cmd += [flag, str(value)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)  # noqa: S603
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        name = Path(path).stem
        peak = usage.ru_maxrss / 1024
        if status != 0 or not out.strip():
            print(
                f"{name:<34} {'failed':>8} {peak:>8.0f}   exit status {status}",
                flush=True,
            )
            continue
        r = json.loads(out.strip().splitlines()[-1])
        gap = "" if r["gap"] is None else f"{r['gap']:.4f}"
        base = r["rss_before_kb"] / 1024
        print(
            f"{name:<34} {r['seconds']:>8.3f} {peak:>8.0f} {base:>8.0f} "
            f"{r['cost']:>10.3f} {r['optimal']!s:>7} {gap:>10}  "
            f"{'; '.join(r['notes'])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
