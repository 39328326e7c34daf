"""Shared test helpers: where the real reference data lives."""

import csv
from datetime import datetime
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
AGILE_CSV = SHARED_DATA / "agile_A_2018-02-19_2021-08-23.csv"
PROFILES_CSV = SHARED_DATA / "appliance_profiles_30min.csv"


@cache
def agile_history() -> tuple[tuple[datetime, datetime, float], ...]:
    """Return the real Agile region A prices (2018-2021) as (start, end, p/kWh)."""
    with AGILE_CSV.open(newline="") as handle:
        return tuple(
            (
                datetime.fromisoformat(row["valid_from_utc"]),
                datetime.fromisoformat(row["valid_to_utc"]),
                float(row["value_inc_vat"]),
            )
            for row in csv.DictReader(handle)
        )
