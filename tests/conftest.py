"""Shared test helpers: the real reference data shipped in the repository.

The tests read nothing outside the repository: the Agile region A prices
(public domain) and the measured appliance cycles (GPL-3.0, OSHv4) are in
``demo/`` (see demo/README.md), recorded API pages in ``tests/fixtures/``.
"""

import csv
from datetime import datetime
from functools import cache
import gzip
import io
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
AGILE_CSV_GZ = DEMO / "agile_A_2018-02-19_2021-08-23.csv.gz"
PROFILES_CSV = DEMO / "appliance_profiles_30min.csv"


@cache
def agile_csv_text() -> str:
    """Return the real Agile region A price CSV (2018-2021) as text."""
    return gzip.decompress(AGILE_CSV_GZ.read_bytes()).decode("utf-8")


@cache
def agile_history() -> tuple[tuple[datetime, datetime, float], ...]:
    """Return the real Agile region A prices (2018-2021) as (start, end, p/kWh)."""
    return tuple(
        (
            datetime.fromisoformat(row["valid_from_utc"]),
            datetime.fromisoformat(row["valid_to_utc"]),
            float(row["value_inc_vat"]),
        )
        for row in csv.DictReader(io.StringIO(agile_csv_text(), newline=""))
    )
