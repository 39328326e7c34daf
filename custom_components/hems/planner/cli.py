"""Command line: ``hems plan PROBLEM.json`` and ``hems backtest ...``.

Bad input prints one line ``hems: error: ...`` naming the field and exits 2.
"""

import argparse
from collections.abc import Sequence
import json
from pathlib import Path
import sys
from typing import Any

from .errors import ProblemError
from .problem_io import parse_problem, plan_to_json
from .solve import plan

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A user error to report on one line (exit status 2)."""


def _read_json(path: str) -> Any:
    try:
        text = (
            sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        )
    except OSError as err:
        raise CliError(f"{path}: {err.strerror or err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CliError(
            f"{path}: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None


def _cmd_plan(args: argparse.Namespace) -> int:
    problem = parse_problem(_read_json(args.problem))
    result = plan(problem, best_effort=args.best_effort, solver=args.solver)
    json.dump(plan_to_json(result), sys.stdout, indent=args.indent)
    sys.stdout.write("\n")
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import run_backtest_cli  # noqa: PLC0415 - only this command needs it

    return run_backtest_cli(args)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``hems``."""
    parser = argparse.ArgumentParser(prog="hems", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_plan = sub.add_parser(
        "plan", help="plan a problem JSON file; prints the plan JSON"
    )
    p_plan.add_argument("problem", help="problem JSON file ('-' for stdin)")
    p_plan.add_argument(
        "--best-effort",
        action="store_true",
        help="if the import limit cannot be met, plan the least excess instead",
    )
    p_plan.add_argument(
        "--solver",
        choices=["auto", "dp", "milp"],
        default="auto",
        help="exact solver to use",
    )
    p_plan.add_argument("--indent", type=int, default=2, help="JSON indent (default 2)")
    p_plan.set_defaults(func=_cmd_plan)
    p_bt = sub.add_parser("backtest", help="replay a price history day by day")
    p_bt.add_argument("--prices", required=True, help="Agile CSV (valid_from_utc, ...)")
    p_bt.add_argument("--household", required=True, help="household YAML file")
    p_bt.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD, local)")
    p_bt.add_argument("--to", dest="date_to", help="last day (YYYY-MM-DD, local)")
    p_bt.add_argument("--plot", help="write a PNG plot of prices and planned load")
    p_bt.add_argument(
        "--json", dest="json_out", help="also write per-day results as JSON"
    )
    p_bt.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    p_bt.add_argument("--quiet", action="store_true", help="print only the totals")
    p_bt.set_defaults(func=_cmd_backtest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except (ProblemError, CliError) as err:
        sys.stderr.write(f"hems: error: {err}\n")
        return EXIT_BAD_INPUT
    return status
