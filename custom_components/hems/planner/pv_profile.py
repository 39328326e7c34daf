"""Half-hourly PV generation series of the backtest, per kWp of array.

Two CSV formats (gzip when the name ends in ``.gz``):

* the NESO embedded solar outturn: ``interval_start_utc``,
  ``embedded_solar_generation_mw`` and ``embedded_solar_capacity_mw`` (mean MW
  over the half-hour; generation / capacity is kW per kWp);
* a simple one: ``start,kw_per_kwp``.
"""

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
import gzip
from pathlib import Path
from typing import Any, TextIO
import zlib

from .errors import ProblemError
from .price_files import parse_number, parse_utc
from .user_files import shown

NESO = (
    "interval_start_utc",
    "embedded_solar_generation_mw",
    "embedded_solar_capacity_mw",
)
SIMPLE = ("start", "kw_per_kwp")
MAX_PER_KWP = 2.0  # kW per kWp: beyond is not a PV output


@dataclass(frozen=True, kw_only=True, slots=True)
class PvArray:
    """An array of ``kwp`` generating ``per_kwp`` kW per kWp at each UTC slot start.

    With ``year`` set, every slot takes the generation of the same UTC date
    and time in that year (29 February from the 28th when it has none).
    """

    kwp: float
    per_kwp: dict[datetime, float]
    year: int | None = None

    def kw_at(self, moment: datetime) -> float | None:
        """Return the array's mean kW in the slot starting at ``moment``."""
        if self.year is not None and moment.year != self.year:
            try:
                moment = moment.replace(year=self.year)
            except ValueError:  # 29 February
                moment = moment.replace(year=self.year, day=28)
        value = self.per_kwp.get(moment)
        return None if value is None else value * self.kwp

    @property
    def covers(self) -> tuple[datetime, datetime]:
        """First slot start and end of the last slot of the series."""
        return min(self.per_kwp), max(self.per_kwp) + timedelta(minutes=30)


def _row(row: dict[str | None, Any], neso: bool, where: str) -> tuple[datetime, float]:
    names = NESO if neso else SIMPLE
    texts = [row.get(name) for name in names]
    if not all(isinstance(text, str) and text for text in texts):
        raise ProblemError(where, "missing fields")
    start = parse_utc(str(texts[0]), where)
    if neso:
        generation = parse_number(str(texts[1]), where, "generation in MW")
        capacity = parse_number(str(texts[2]), where, "capacity in MW")
        if capacity <= 0:
            raise ProblemError(where, f"capacity must be above 0, got {capacity:g}")
        value = generation / capacity
    else:
        value = parse_number(str(texts[1]), where, "kW per kWp")
    if not 0 <= value <= MAX_PER_KWP:
        raise ProblemError(
            where, f"{value:g} kW per kWp is not a PV output (0 to {MAX_PER_KWP:g})"
        )
    return start, value


def _rows(handle: TextIO, where: str) -> dict[datetime, float]:
    reader = csv.DictReader(handle)
    fields = set(reader.fieldnames or ())
    neso = set(NESO) <= fields
    if not neso and not set(SIMPLE) <= fields:
        raise ProblemError(
            where,
            f"needs columns {','.join(SIMPLE)} or the NESO ones {','.join(NESO)}",
        )
    series = dict(
        _row(row, neso, f"{where}: line {line}")
        for line, row in enumerate(reader, start=2)
    )
    if not series:
        raise ProblemError(where, "no rows")
    return series


def read_pv_profile(path: Path, field: str = "pv.profile") -> dict[datetime, float]:
    """Return UTC slot start -> kW per kWp from a PV CSV (see the module doc)."""
    where = f"{field}: {shown(path)}"
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
                return _rows(handle, where)
        with path.open(encoding="utf-8", newline="") as handle:
            return _rows(handle, where)
    except OSError as err:
        raise ProblemError(where, err.strerror or str(err)) from None
    except (UnicodeDecodeError, csv.Error, EOFError, zlib.error) as err:
        raise ProblemError(where, f"not a PV CSV: {err}") from None
