"""Shared test helpers: where the real reference data lives."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
AGILE_CSV = SHARED_DATA / "agile_A_2018-02-19_2021-08-23.csv"
PROFILES_CSV = SHARED_DATA / "appliance_profiles_30min.csv"
