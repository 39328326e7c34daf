"""Recorded price histories: reading files and replaying them onto real dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
import gzip
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from custom_components.hems.prices import (
    HISTORY_HEADER,
    SLOT,
    PriceFileError,
    PriceSlot,
    ReplaySource,
    find_gaps,
    load_price_history,
)
from tests.conftest import AGILE_CSV_GZ, agile_csv_text

LONDON = ZoneInfo("Europe/London")
HEADER = ",".join(HISTORY_HEADER)
ROW1 = "2021-08-20T00:00:00Z,2021-08-20T00:30:00Z,12.5"
ROW2 = "2021-08-20T00:30:00Z,2021-08-20T01:00:00Z,-1.25"


@pytest.fixture(scope="module")
def history() -> tuple[PriceSlot, ...]:
    """Load the real Agile region A history, 2018-02-19 to 2021-08-23."""
    return load_price_history(AGILE_CSV_GZ)


@pytest.fixture(scope="module")
def replay(history: tuple[PriceSlot, ...]) -> ReplaySource:
    return ReplaySource(history, tz=LONDON)


def at(history: Sequence[PriceSlot], start: datetime) -> float:
    """Return the recorded price of the slot starting at `start` (UTC)."""
    index = round((start - history[0].start) / SLOT)
    assert history[index].start == start
    return history[index].value


def local_day_values(history: Sequence[PriceSlot], day: date) -> list[float]:
    """Return the recorded prices of one local London day, in order."""
    begin = datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=LONDON)
    return [s.value for s in history if begin <= s.start < end.astimezone(UTC)]


def assert_contiguous_day(slots: Sequence[PriceSlot], day: date, count: int) -> None:
    assert len(slots) == count
    assert slots[0].start == datetime.combine(day, time(), tzinfo=LONDON)
    assert slots[-1].end == datetime.combine(
        day + timedelta(days=1), time(), tzinfo=LONDON
    )
    assert all(s.start.tzinfo is UTC and s.end - s.start == SLOT for s in slots)
    assert all(a.end == b.start for a, b in itertools.pairwise(slots))


# --- load_price_history: the real file --------------------------------------


def test_real_history_loads_completely() -> None:
    slots = load_price_history(AGILE_CSV_GZ)
    assert len(slots) == 61_532
    assert slots[0] == PriceSlot(
        start=datetime(2018, 2, 19, 0, 0, tzinfo=UTC),
        end=datetime(2018, 2, 19, 0, 30, tzinfo=UTC),
        value=9.2715,
    )
    assert slots[-1] == PriceSlot(
        start=datetime(2021, 8, 23, 21, 30, tzinfo=UTC),
        end=datetime(2021, 8, 23, 22, 0, tzinfo=UTC),
        value=18.963,
    )
    assert find_gaps(slots) == []
    assert sum(1 for s in slots if s.value < 0) == 240
    assert max(s.value for s in slots) <= 35.0


def test_gzip_slice_of_the_real_file(
    tmp_path: Path, history: tuple[PriceSlot, ...]
) -> None:
    lines = agile_csv_text().splitlines()[:101]
    path = tmp_path / "slice.CSV.GZ"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write("\r\n".join(lines) + "\r\n")

    assert load_price_history(path) == history[:100]


def test_plain_csv_with_bom_blank_lines_and_offsets(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(
        "\ufeff"
        + HEADER
        + "\n"
        + ROW1
        + "\n\n2021-08-20T01:30:00+01:00,2021-08-20T02:00:00+01:00,-1.25\n\n",
        encoding="utf-8",
    )

    slots = load_price_history(path)

    assert slots == (
        PriceSlot(
            start=datetime(2021, 8, 20, 0, 0, tzinfo=UTC),
            end=datetime(2021, 8, 20, 0, 30, tzinfo=UTC),
            value=12.5,
        ),
        PriceSlot(
            start=datetime(2021, 8, 20, 0, 30, tzinfo=UTC),
            end=datetime(2021, 8, 20, 1, 0, tzinfo=UTC),
            value=-1.25,
        ),
    )
    assert load_price_history(str(path)) == slots  # type: ignore[arg-type]


# --- load_price_history: bad files --------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file, expected the header valid_from_utc,valid_to_utc,"),
        ("start,end,price\n" + ROW1, "line 1: header 'start,end,price', expected"),
        (HEADER + "\n", "no price rows after the header"),
        (f"{HEADER}\n{ROW1}\n2021-08-20T00:30:00Z,12.0\n", "line 3: expected 3 fields"),
        (
            f"{HEADER}\n2021-08-20 midnight,2021-08-20T00:30:00Z,1\n",
            "line 2: field 'valid_from_utc': unparsable time '2021-08-20 midnight'",
        ),
        (
            f"{HEADER}\n2021-08-20T00:00:00Z,soon,1\n",
            "line 2: field 'valid_to_utc': unparsable time 'soon'",
        ),
        (
            f"{HEADER}\n2021-08-20T00:00:00,2021-08-20T00:30:00Z,1\n",
            "line 2: field 'valid_from_utc': naive time",
        ),
        (
            f"{HEADER}\n2021-08-20T00:00:00Z,2021-08-20T00:30:00,1\n",
            "line 2: field 'valid_to_utc': naive time",
        ),
        (
            f"{HEADER}\n2021-08-20T00:00:00Z,2021-08-20T00:30:00Z,abc\n",
            "line 2: field 'value_inc_vat': 'abc' is not a number",
        ),
        (
            f"{HEADER}\n2021-08-20T00:00:00Z,2021-08-20T00:30:00Z,nan\n",
            "line 2: field 'value_inc_vat': nan is not finite",
        ),
        (
            f"{HEADER}\n2021-08-20T00:00:00Z,2021-08-20T00:30:00Z,5000\n",
            "line 2: field 'value_inc_vat': 5000.0 p/kWh is outside the plausible",
        ),
        (
            f"{HEADER}\n2021-08-20T00:00:00Z,2021-08-20T01:00:00Z,1\n",
            "line 2: slot .* lasts 1:00:00, expected 0:30:00",
        ),
        (
            f"{HEADER}\n{ROW2}\n{ROW1}\n",
            (
                r"line 3: slot 2021-08-20T00:00:00\+00:00 starts before the previous "
                r"row ends \(2021-08-20T01:00:00\+00:00\); rows must be sorted"
            ),
        ),
        (f"{HEADER}\n{ROW1}\n{ROW1}\n", "line 3: .* starts before the previous row"),
        (f'{HEADER}\n{ROW1}\n"{"x" * 200_000}",b,c\n', "line 3: field larger than"),
        (f'"{"x" * 200_000}",b,c\n{ROW1}\n', "line 1: field larger than"),
    ],
)
def test_bad_file_names_file_and_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(PriceFileError, match=message) as caught:
        load_price_history(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    with pytest.raises(PriceFileError, match=f"{missing}: cannot read the file"):
        load_price_history(missing)

    not_gzip = tmp_path / "plain.csv.gz"
    not_gzip.write_text(f"{HEADER}\n{ROW1}\n", encoding="utf-8")
    with pytest.raises(PriceFileError, match="cannot read the file: Not a gzipped"):
        load_price_history(not_gzip)

    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(gzip.compress(f"{HEADER}\n{ROW1}\n".encode() * 50)[:60])
    with pytest.raises(PriceFileError, match=f"{truncated}: cannot read the file"):
        load_price_history(truncated)

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(f"{HEADER}\n{ROW1}\n".encode() + b"\xe9t\xe9,\xff,1\n")
    with pytest.raises(PriceFileError, match="cannot read the file: 'utf-8' codec"):
        load_price_history(latin1)


# --- ReplaySource ---------------------------------------------------------------


def test_history_bounds(replay: ReplaySource) -> None:
    assert replay.history_bounds() == (
        datetime(2018, 2, 19, 0, 0, tzinfo=UTC),
        datetime(2021, 8, 23, 22, 0, tzinfo=UTC),
    )


def test_ordinary_day_before_and_after_publication(
    replay: ReplaySource, history: tuple[PriceSlot, ...]
) -> None:
    day = date(2026, 6, 10)
    before = replay.slots_known_at(datetime(2026, 6, 10, 15, 59, tzinfo=LONDON))
    at_four = replay.slots_known_at(datetime(2026, 6, 10, 16, 0, tzinfo=LONDON))

    assert_contiguous_day(before, day, 48)
    assert replay.source_date(day) == date(2021, 6, 10)
    assert [s.value for s in before] == local_day_values(history, date(2021, 6, 10))
    assert len(at_four) == 96
    assert at_four[:48] == before
    assert_contiguous_day(at_four[48:], date(2026, 6, 11), 48)
    assert [s.value for s in at_four[48:]] == local_day_values(
        history, date(2021, 6, 11)
    )


def test_now_in_another_zone_is_read_as_local_time(replay: ReplaySource) -> None:
    # 15:30Z is 16:30 BST: tomorrow is already published in London.
    assert len(replay.slots_known_at(datetime(2026, 6, 10, 15, 30, tzinfo=UTC))) == 96
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        replay.slots_known_at(datetime(2026, 6, 10, 12, 0))


def test_spring_forward_day_has_46_slots(
    replay: ReplaySource, history: tuple[PriceSlot, ...]
) -> None:
    day = date(2026, 3, 29)
    slots = replay.slots_known_at(datetime(2026, 3, 29, 12, 0, tzinfo=UTC))

    assert_contiguous_day(slots, day, 46)
    assert replay.source_date(day) == date(2021, 3, 29)
    # 00:30 GMT is the last slot before the clocks go forward, 02:00 BST the next.
    assert slots[1].start == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert slots[1].value == at(history, datetime(2021, 3, 28, 23, 30, tzinfo=UTC))
    assert slots[2].start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert slots[2].value == at(history, datetime(2021, 3, 29, 1, 0, tzinfo=UTC))
    assert [s.value for s in slots] == local_day_values(history, date(2021, 3, 29))[
        :2
    ] + local_day_values(history, date(2021, 3, 29))[4:]


def test_fall_back_day_has_50_slots(
    replay: ReplaySource, history: tuple[PriceSlot, ...]
) -> None:
    day = date(2026, 10, 25)
    before = replay.slots_known_at(datetime(2026, 10, 25, 15, 0, tzinfo=LONDON))
    after = replay.slots_known_at(datetime(2026, 10, 25, 17, 0, tzinfo=LONDON))

    assert_contiguous_day(before, day, 50)
    # 2020-10-25 was a fall-back day too: the repeated hour maps one to one.
    assert replay.source_date(day) == date(2020, 10, 25)
    assert [s.value for s in before] == local_day_values(history, date(2020, 10, 25))
    assert before[2].start == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 01:00 BST
    assert before[2].value == at(history, datetime(2020, 10, 25, 0, 0, tzinfo=UTC))
    assert before[4].start == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 01:00 GMT
    assert before[4].value == at(history, datetime(2020, 10, 25, 1, 0, tzinfo=UTC))
    assert len(after) == 98
    assert_contiguous_day(after[50:], date(2026, 10, 26), 48)


def test_ordinary_day_replayed_from_a_spring_forward_day(
    replay: ReplaySource, history: tuple[PriceSlot, ...]
) -> None:
    day = date(2026, 3, 28)
    slots = replay.slots_known_at(datetime(2026, 3, 28, 9, 0, tzinfo=UTC))

    assert_contiguous_day(slots, day, 48)
    assert replay.source_date(day) == date(2021, 3, 28)  # which lacked 01:00-02:00
    h_0030 = at(history, datetime(2021, 3, 28, 0, 30, tzinfo=UTC))  # 00:30 GMT
    h_0200 = at(history, datetime(2021, 3, 28, 1, 0, tzinfo=UTC))  # 02:00 BST
    assert slots[1].value == h_0030
    assert slots[2].value == h_0030  # 01:00: nearest is 00:30
    assert slots[3].value == h_0200  # 01:30: nearest is 02:00
    assert slots[4].value == h_0200


def test_fall_back_day_replayed_from_an_ordinary_day(
    replay: ReplaySource, history: tuple[PriceSlot, ...]
) -> None:
    day = date(2027, 10, 31)  # the clocks go back that Sunday
    slots = replay.slots_known_at(datetime(2027, 10, 31, 9, 0, tzinfo=UTC))

    assert_contiguous_day(slots, day, 50)
    assert replay.source_date(day) == date(2020, 10, 31)  # an ordinary GMT day
    h_0100 = at(history, datetime(2020, 10, 31, 1, 0, tzinfo=UTC))
    h_0130 = at(history, datetime(2020, 10, 31, 1, 30, tzinfo=UTC))
    assert [s.value for s in slots[2:6]] == [h_0100, h_0130, h_0100, h_0130]


def test_ordinary_day_replayed_from_a_fall_back_day(
    replay: ReplaySource, history: tuple[PriceSlot, ...]
) -> None:
    day = date(2027, 10, 25)
    slots = replay.slots_known_at(datetime(2027, 10, 25, 9, 0, tzinfo=UTC))

    assert_contiguous_day(slots, day, 48)
    assert replay.source_date(day) == date(2020, 10, 25)
    # 01:00 BST of 2027-10-25 takes the first 01:00 (BST) of 2020-10-25.
    assert slots[2].value == at(history, datetime(2020, 10, 25, 0, 0, tzinfo=UTC))


def test_incomplete_last_day_is_not_used(replay: ReplaySource) -> None:
    # The history ends 2021-08-23 22:00Z = 23:00 BST, an hour short of a full day.
    assert replay.source_date(date(2026, 8, 23)) == date(2020, 8, 23)
    assert replay.source_date(date(2026, 8, 22)) == date(2021, 8, 22)
    # The first day, 2018-02-19, is complete and is the only Feb 19 after 2018.
    assert replay.source_date(date(2026, 2, 19)) == date(2021, 2, 19)


def test_feb_29(replay: ReplaySource, history: tuple[PriceSlot, ...]) -> None:
    assert replay.source_date(date(2028, 2, 29)) == date(2020, 2, 29)
    without_leap_day = [
        s for s in history if s.start.astimezone(LONDON).date() != date(2020, 2, 29)
    ]
    source = ReplaySource(without_leap_day, tz=LONDON)
    assert source.source_date(date(2028, 2, 29)) == date(2021, 2, 28)
    slots = source.slots_known_at(datetime(2028, 2, 29, 8, 0, tzinfo=UTC))
    assert [s.value for s in slots] == local_day_values(history, date(2021, 2, 28))


def test_short_history_uses_the_nearest_day_in_the_calendar(
    history: tuple[PriceSlot, ...],
) -> None:
    aug20 = datetime(2021, 8, 19, 23, 0, tzinfo=UTC)  # local midnight, BST
    days = [s for s in history if aug20 <= s.start < aug20 + timedelta(days=3)]
    without_21st = [s for s in days if s.start.astimezone(LONDON).day != 21]
    source = ReplaySource(without_21st, tz=LONDON, publish_time=time(17, 0))

    assert source.source_date(date(2026, 6, 1)) == date(2021, 8, 20)
    assert source.source_date(date(2027, 1, 1)) == date(2021, 8, 22)
    assert source.source_date(date(2026, 8, 21)) == date(2021, 8, 22)  # tie: latest
    assert source.source_date(date(2026, 8, 20)) == date(2021, 8, 20)
    assert (
        len(source.slots_known_at(datetime(2026, 8, 21, 16, 30, tzinfo=LONDON))) == 48
    )
    assert len(source.slots_known_at(datetime(2026, 8, 21, 17, 0, tzinfo=LONDON))) == 96


def test_replay_in_another_time_zone(history: tuple[PriceSlot, ...]) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    source = ReplaySource(history, tz=berlin)

    slots = source.slots_known_at(datetime(2026, 3, 29, 10, 0, tzinfo=UTC))

    assert len(slots) == 46
    assert slots[0].start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert slots[-1].end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


def test_time_zone_off_the_half_hour_grid_is_refused(
    history: tuple[PriceSlot, ...],
) -> None:
    source = ReplaySource(history[-500:], tz=ZoneInfo("Asia/Kathmandu"))
    with pytest.raises(ValueError, match="not a whole number of half-hours from UTC"):
        source.slots_known_at(datetime(2026, 6, 10, 6, 0, tzinfo=UTC))


def test_replay_source_rejects_bad_input(history: tuple[PriceSlot, ...]) -> None:
    with pytest.raises(ValueError, match="the price history is empty"):
        ReplaySource([], tz=LONDON)
    with pytest.raises(ValueError, match="no complete local day"):
        ReplaySource(history[:40], tz=LONDON)
    hour = PriceSlot(start=history[0].start, end=history[0].start + 2 * SLOT, value=1)
    with pytest.raises(ValueError, match=r"bad slot: slot .* lasts 1:00:00"):
        ReplaySource([hour, *history[2:100]], tz=LONDON)
    with pytest.raises(ValueError, match="publish_time must be a local wall-clock"):
        ReplaySource(history, tz=LONDON, publish_time=time(16, 0, tzinfo=UTC))
