"""Price history CSVs of the backtest: import or export prices per half-hour.

One row per slot: ``valid_from_utc`` (ISO time, UTC when it has no offset) and
a price column (p/kWh).  The column is named by the caller or found among the
usual ones: Agile exports have ``value_inc_vat``; a combined import and export
file (``valid_from_utc,valid_to_utc,import_inc_vat,export``) serves as both
``--prices`` (``import_inc_vat``) and ``--export-prices`` (``export``).
Gzip-compressed when the name ends in ``.gz``; a later row for the same start
wins.
"""

from collections.abc import Sequence
import csv
from datetime import UTC, datetime
import gzip
import math
from pathlib import Path
from typing import Any, TextIO
import zlib

from .errors import ProblemError
from .problem_io import show
from .user_files import shown
from .validation import MAX_MAGNITUDE

START = "valid_from_utc"
IMPORT_COLUMNS = ("value_inc_vat", "import_inc_vat")
EXPORT_COLUMNS = ("export", "export_inc_vat", "value_inc_vat")


def parse_utc(text: str, where: str) -> datetime:
    """Return an ISO time as UTC (UTC when it has no offset)."""
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    except ValueError, OverflowError:
        raise ProblemError(where, f"not a UTC time: {show(text)}") from None


def parse_number(text: str, where: str, what: str) -> float:
    """Return a finite number within the planner's bounds."""
    try:
        value = float(text)
    except ValueError:
        raise ProblemError(where, f"not a {what}: {show(text)}") from None
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise ProblemError(where, f"{what} out of range: {show(text)}")
    return value


def _price_row(
    row: dict[str | None, Any], column: str, where: str
) -> tuple[datetime, float]:
    start_text, value_text = row.get(START), row.get(column)
    if not isinstance(start_text, str) or not isinstance(value_text, str):
        raise ProblemError(where, "missing fields")
    return parse_utc(start_text, where), parse_number(value_text, where, "price")


def _column(
    fields: Sequence[str], column: str | None, usual: Sequence[str], where: str
) -> str:
    if column is not None:
        if column not in fields:
            raise ProblemError(where, f"no column {column}")
        return column
    for name in usual:
        if name in fields:
            return name
    raise ProblemError(where, f"no column {' or '.join(usual)}")


def _price_rows(
    handle: TextIO, where: str, column: str | None, usual: Sequence[str]
) -> dict[datetime, float]:
    reader = csv.DictReader(handle)
    fields = list(reader.fieldnames or ())
    if START not in fields:
        raise ProblemError(where, f"no column {START}")
    name = _column(fields, column, usual, where)
    return dict(
        _price_row(row, name, f"{where}: line {line}")
        for line, row in enumerate(reader, start=2)
    )


def read_prices(
    path: Path,
    *,
    option: str = "--prices",
    column: str | None = None,
    usual: Sequence[str] = IMPORT_COLUMNS,
) -> dict[datetime, float]:
    """Return UTC slot start -> p/kWh from a price CSV (see the module doc)."""
    where = f"{option}: {shown(path)}"
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
                return _price_rows(handle, where, column, usual)
        with path.open(encoding="utf-8", newline="") as handle:
            return _price_rows(handle, where, column, usual)
    except OSError as err:  # gzip.BadGzipFile too
        raise ProblemError(where, err.strerror or str(err)) from None
    except (UnicodeDecodeError, csv.Error, EOFError, zlib.error) as err:
        raise ProblemError(where, f"not a price CSV: {err}") from None
