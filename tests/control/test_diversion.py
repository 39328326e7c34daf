"""The surplus diverter: dwell, priority, hysteresis, minimum times."""

from datetime import UTC, datetime, timedelta

from custom_components.hems.diversion import (
    Decision,
    DiversionSettings,
    Diverter,
    DivertLoad,
)

T0 = datetime(2020, 6, 1, 11, tzinfo=UTC)
CAR = DivertLoad(id="car", power_kw=7.0, priority=2)
WATER = DivertLoad(id="water", power_kw=3.0, priority=3)


def _feed(
    diverter: Diverter, readings: list[tuple[int, float]], free: set[str]
) -> list[tuple[int, Decision]]:
    """Feed (seconds, grid kW) readings; return the decisions that did something."""
    out = []
    for seconds, grid in readings:
        decision = diverter.update(T0 + timedelta(seconds=seconds), grid, free)
        if decision != Decision():
            out.append((seconds, decision))
            if decision.on:
                free.discard(decision.on)
            if decision.off:
                free.add(decision.off)
    return out


def test_a_surplus_must_last_the_dwell_time() -> None:
    diverter = Diverter((CAR, WATER))
    # 4 kW of export for 90 s, then a cloud: nothing switches.
    assert (
        _feed(
            diverter, [(0, -4.0), (60, -4.0), (90, -4.0), (100, 0.5)], {"car", "water"}
        )
        == []
    )
    # 4 kW for two minutes: the heater (3 kW) takes it; the car (7 kW) does not fit.
    free = {"car", "water"}
    decisions = _feed(diverter, [(200, -4.0), (260, -4.0), (320, -4.0)], free)
    assert decisions == [(320, Decision(on="water"))]
    assert diverter.diverted == {"water": T0 + timedelta(seconds=320)}


def test_priority_order_and_one_load_at_a_time() -> None:
    diverter = Diverter((WATER, CAR))  # the car has priority 2, water 3
    free = {"car", "water"}
    decisions = _feed(
        diverter, [(0, -11.0), (120, -11.0), (130, -4.0), (250, -4.0)], free
    )
    assert decisions == [(120, Decision(on="car")), (250, Decision(on="water"))]


def test_import_switches_the_last_load_off_after_its_minimum_time() -> None:
    settings = DiversionSettings(min_on=timedelta(minutes=5))
    diverter = Diverter((CAR, WATER), settings)
    free = {"car", "water"}
    _feed(diverter, [(0, -4.0), (120, -4.0)], free)  # water on at 120 s
    # Importing from 180 s: the water heater ran only 3 minutes at 300 s.
    assert _feed(diverter, [(180, 1.0), (300, 1.0)], free) == []
    assert _feed(diverter, [(420, 1.0)], free) == [(420, Decision(off="water"))]
    # It may not come back before its minimum off time.
    assert _feed(diverter, [(430, -4.0), (560, -4.0), (660, -4.0)], free) == []
    assert _feed(diverter, [(720, -4.0), (840, -4.0)], free) == [
        (840, Decision(on="water"))
    ]


def test_small_wobbles_inside_the_margin_do_nothing() -> None:
    diverter = Diverter((WATER,), DiversionSettings(margin_kw=0.2))
    free = {"water"}
    _feed(diverter, [(0, -4.0), (120, -4.0)], free)
    # +0.1 kW import is within the margin: the heater stays on.
    assert _feed(diverter, [(200, 0.1), (400, 0.1), (900, 0.1)], free) == []
    assert diverter.diverted.keys() == {"water"}


def test_only_free_loads_are_switched_and_released_ones_are_forgotten() -> None:
    diverter = Diverter((CAR, WATER))
    assert _feed(diverter, [(0, -20.0), (200, -20.0)], set()) == []
    free = {"water"}
    assert _feed(diverter, [(300, -20.0), (420, -20.0)], free) == [
        (420, Decision(on="water"))
    ]
    diverter.release("water", T0 + timedelta(seconds=500))
    assert diverter.diverted == {}


def test_above_the_import_limit_a_diverted_load_goes_at_once() -> None:
    diverter = Diverter((CAR, WATER))
    free = {"car", "water"}
    _feed(diverter, [(0, -8.0), (120, -8.0)], free)  # the car takes 8 kW of export
    decision = diverter.update(T0 + timedelta(seconds=130), 9.5, free, limit_kw=9.0)
    assert decision == Decision(off="car")
