"""Command line: ``hems plan PROBLEM.json`` and ``hems backtest ...``.

Bad input prints one line ``hems: error: ...`` naming the field and exits 2.
"""

import argparse
from collections.abc import Sequence
import json
import sys
from typing import Any, NoReturn

from .errors import ProblemError
from .problem_io import parse_problem, plan_to_json
from .solve import plan
from .user_files import read_text, user_path

EXIT_BAD_INPUT = 2
MAX_INDENT = 16
MAX_MESSAGE = 500


class CliError(Exception):
    """A user error to report on one line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line on one line, like bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"hems: error: {message}\n")


def _parse_json(text: str, name: str) -> Any:
    digits = sys.get_int_max_str_digits()

    def integer(literal: str) -> int:
        if digits and len(literal.lstrip("-")) > digits:
            raise CliError(
                f"{name}: an integer of {len(literal.lstrip('-'))} digits is out "
                "of range"
            )
        return int(literal)

    try:
        return json.loads(text, parse_int=integer)
    except json.JSONDecodeError as err:
        raise CliError(
            f"{name}: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    except RecursionError:
        raise CliError(f"{name}: JSON nested too deeply") from None


def _read_json(path: str) -> Any:
    if path == "-":
        data = sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise CliError(
                f"-: not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start})"
            ) from None
    else:
        text = read_text(user_path(path), "")
    return _parse_json(text, path)


def _cmd_plan(args: argparse.Namespace) -> int:
    problem = parse_problem(_read_json(args.problem))
    result = plan(problem, best_effort=args.best_effort, solver=args.solver)
    # allow_nan=False: never print Infinity or NaN (not JSON)
    text = json.dumps(plan_to_json(result), indent=args.indent, allow_nan=False)
    sys.stdout.write(text + "\n")
    return 0


def _indent(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value <= MAX_INDENT:
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_INDENT}, got {value}")
    return value


def _cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import run_backtest_cli  # noqa: PLC0415 - only this command needs it

    return run_backtest_cli(args)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``hems``."""
    parser = _Parser(prog="hems", description=__doc__.splitlines()[0])
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
    p_plan.add_argument(
        "--indent", type=_indent, default=2, help="JSON indent (0-16, default 2)"
    )
    p_plan.set_defaults(func=_cmd_plan)
    p_bt = sub.add_parser("backtest", help="replay a price history day by day")
    p_bt.add_argument(
        "--prices",
        required=True,
        help="import price CSV (valid_from_utc and value_inc_vat or import_inc_vat)",
    )
    p_bt.add_argument(
        "--price-column", help="the import price column (default: found as above)"
    )
    p_bt.add_argument(
        "--export-prices",
        help="export price CSV (valid_from_utc and export or value_inc_vat); "
        "may be the --prices file when it holds both",
    )
    p_bt.add_argument(
        "--export-column", help="the export price column (default: found as above)"
    )
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
        sys.stderr.write(f"hems: error: {one_line(str(err))}\n")
        return EXIT_BAD_INPUT
    return status


def one_line(message: str) -> str:
    """Escape control characters (a field name may hold any) and cap the length."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."
