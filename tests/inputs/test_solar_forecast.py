"""Solar forecasts to kWh per UTC half-hour, on recorded real forecasts."""

from datetime import UTC, date, datetime, timedelta
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.hems.solar_forecast import (
    Estimate,
    Keying,
    SolarForecast,
    choose,
    detect_keying,
    energy_to_half_hours,
    from_attributes,
    from_forecast_solar,
    from_solcast,
    from_wh_hours,
    has_forecast,
    merge,
    parse_series,
    parse_time,
    power_to_half_hours,
    slot_of,
    typical_step,
)
from tests.household import FIXTURES

SLOT = timedelta(minutes=30)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SYDNEY = ZoneInfo("Australia/Sydney")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def total(forecast: SolarForecast) -> float:
    return sum(forecast.kwh.values())


# --- the Forecast.Solar API (recorded response, 2024-04-27..30, Leiden) -------


def test_forecast_solar_api_marks_period_ends() -> None:
    """0 Wh at sunrise, then the area under the power curve up to each point."""
    result = load("forecast_solar_sample.json")["result"]
    wh, problems = parse_series(result["watt_hours_period"], "wh")
    watts, _ = parse_series(result["watts"], "watts")
    assert problems == []
    assert detect_keying(wh, watts) is Keying.END


def test_forecast_solar_api_days_keep_their_energy() -> None:
    result = load("forecast_solar_sample.json")["result"]
    parsed = from_wh_hours({"wh_hours": result["watt_hours_period"]}, Keying.END)
    assert parsed.problems == ()
    forecast = parsed.forecast
    assert total(forecast) == pytest.approx(26.208)
    for day, wh in result["watt_hours_day"].items():
        kwh = forecast.day_kwh(date.fromisoformat(day), AMSTERDAM)
        assert kwh == pytest.approx(wh / 1000)
    # A regular 30-minute point is the half-hour that ends at it.
    ends = result["watt_hours_period"]
    assert forecast.kwh[utc(2024, 4, 27, 10, 30)] == pytest.approx(
        ends["2024-04-27T13:00:00+02:00"] / 1000
    )
    # The irregular sunrise point (06:18:15) and the next (06:30, 5 Wh) fall
    # in the half-hour 04:00Z-04:30Z; sunset (21:01:07) in 19:00Z-19:30Z.
    assert forecast.kwh[utc(2024, 4, 27, 4, 0)] == pytest.approx(0.005)
    assert forecast.start == utc(2024, 4, 27, 3, 30)  # the sunrise point's period
    assert forecast.end == utc(2024, 4, 30, 19, 30)


def test_start_keying_moves_the_api_forecast_a_period_later() -> None:
    result = load("forecast_solar_sample.json")["result"]
    raw = {"wh_hours": result["watt_hours_period"]}
    ends = from_wh_hours(raw, Keying.END).forecast
    starts = from_wh_hours(raw).forecast
    assert total(starts) == pytest.approx(total(ends))
    slot = utc(2024, 4, 28, 10, 0)
    assert starts.kwh[slot + SLOT] == pytest.approx(ends.kwh[slot])


def test_forecast_solar_api_attributes_with_the_power_curve() -> None:
    """Attributes with both: the keying is found, the energy is the same."""
    result = load("forecast_solar_sample.json")["result"]
    parsed = from_forecast_solar(
        {"wh_period": result["watt_hours_period"], "watts": result["watts"]}
    )
    assert total(parsed.forecast) == pytest.approx(26.208)
    by_hand = from_wh_hours({"wh_hours": result["watt_hours_period"]}, Keying.END)
    for slot, kwh in by_hand.forecast.kwh.items():
        assert parsed.forecast.kwh[slot] == pytest.approx(kwh, abs=1e-3)


# --- Forecast.Solar sensors in Home Assistant (8 states, 2025-10-05, +11:00) --


def test_forecast_solar_sensor_hours_are_shaped_by_the_power_curve() -> None:
    states = load("forecast_solar_ha_sensor_sample.json")
    east = states[0]["attributes"]
    wh, _ = parse_series(east["wh_period"], "wh")
    watts, _ = parse_series(east["watts"], "watts")
    assert detect_keying(wh, watts) is Keying.START
    forecast = from_forecast_solar(east).forecast
    # Every hour keeps its energy, split between its half-hours by the curve.
    for moment, value in wh.items():
        halves = forecast.kwh.get(moment, 0.0) + forecast.kwh.get(moment + SLOT, 0.0)
        assert halves == pytest.approx(value / 1000)
    # 06:00-07:00 local (19:00Z): watts 0, 0, 195, 1015 -> most in the second half.
    first, second = (
        forecast.kwh[utc(2025, 10, 4, 19, 0)],
        forecast.kwh[utc(2025, 10, 4, 19, 30)],
    )
    assert first + second == pytest.approx(0.270)
    assert second > 10 * first


def test_forecast_solar_sensors_of_four_planes_add_up() -> None:
    states = load("forecast_solar_ha_sensor_sample.json")
    forecasts = [from_attributes(s["attributes"], Estimate.P50) for s in states]
    assert all(not parsed.problems for parsed in forecasts)
    merged = merge(parsed.forecast for parsed in forecasts)
    assert total(merged) == pytest.approx(sum(float(s["state"]) for s in states))
    today = [s for s in states if "today" in s["entity_id"]]
    assert merged.day_kwh(date(2025, 10, 5), SYDNEY) == pytest.approx(
        sum(float(s["state"]) for s in today)
    )
    assert merged.start == utc(2025, 10, 4, 13, 0)
    assert merged.end == utc(2025, 10, 6, 13, 0)


# --- Solcast sensors in Home Assistant (3 states, 2025-10-06, +11:00) ---------


def test_solcast_states_give_their_day_totals() -> None:
    for state in load("solcast_forecast_sample.json"):
        parsed = from_attributes(state["attributes"], Estimate.P50)
        assert parsed.problems == ()
        assert total(parsed.forecast) == pytest.approx(float(state["state"]), 1e-4)
        for item in state["attributes"]["detailedForecast"]:
            slot = parse_time(item["period_start"])
            assert slot is not None
            assert parsed.forecast.kw_at(slot) == pytest.approx(item["pv_estimate"])


def test_solcast_estimates() -> None:
    attributes = load("solcast_forecast_sample.json")[0]["attributes"]
    p50, p10, blend = (
        total(from_attributes(attributes, estimate).forecast)
        for estimate in (Estimate.P50, Estimate.P10, Estimate.BLEND)
    )
    p10_by_hand = sum(i["pv_estimate10"] for i in attributes["detailedForecast"]) / 2
    assert p10 == pytest.approx(p10_by_hand)
    assert p10 < blend < p50
    assert blend == pytest.approx((p10 + p50) / 2)


def test_solcast_without_p10_uses_p50_and_says_so() -> None:
    detailed = [
        {"period_start": "2025-10-06T12:00:00+11:00", "pv_estimate": 2.0},
        {
            "period_start": "2025-10-06T12:30:00+11:00",
            "pv_estimate": 2.0,
            "pv_estimate10": 1.0,
        },
    ]
    parsed = from_solcast(detailed, Estimate.P10)
    assert total(parsed.forecast) == pytest.approx(1.0 + 0.5)
    assert any("P50 used" in problem for problem in parsed.problems)
    assert from_solcast(detailed, Estimate.P50).problems == ()


def test_solcast_hourly_periods() -> None:
    hourly = load("solcast_forecast_sample.json")[0]["attributes"]["detailedHourly"]
    parsed = from_attributes({"detailedHourly": hourly}, Estimate.P50)
    assert total(parsed.forecast) == pytest.approx(
        sum(i["pv_estimate"] for i in hourly)
    )


def test_solcast_live_attributes_hold_datetimes() -> None:
    """In Home Assistant the attribute holds datetime objects, not strings."""
    detailed = [
        {"period_start": datetime(2025, 10, 6, 1, 0, tzinfo=UTC), "pv_estimate": 3.0},
        {"period_start": datetime(2025, 10, 6, 1, 30, tzinfo=UTC), "pv_estimate": 4.0},
    ]
    forecast = from_solcast(detailed, Estimate.P50).forecast
    assert forecast.kw((utc(2025, 10, 6, 1, 0), utc(2025, 10, 6, 1, 30))) == (3.0, 4.0)


def test_solcast_energy_platform_payload() -> None:
    """The recorded API payload, as the Solcast integration hands it to HA."""
    payload = load("solcast_api_forecasts_sample.json")["forecasts"]
    wh_hours = {}
    for item in payload:
        end = parse_time(item["period_end"])
        assert end is not None
        assert item["period"] == "PT30M"
        if item["pv_estimate"] > 0:  # the integration leaves out the night
            wh_hours[(end - SLOT).isoformat()] = item["pv_estimate"] * 500
    forecast = from_wh_hours({"wh_hours": wh_hours}).forecast
    assert total(forecast) == pytest.approx(sum(i["pv_estimate"] for i in payload) / 2)
    assert total(forecast) == pytest.approx(1.43, abs=0.01)
    # The night between the two days is not smeared with daylight energy.
    assert forecast.kwh.get(utc(2024, 12, 27, 0, 0), 0.0) == 0.0
    assert min(forecast.kwh) == utc(2024, 12, 27, 8, 0)


# --- shapes and edges ---------------------------------------------------------


def test_periods_of_any_length() -> None:
    quarter = {utc(2024, 6, 1, 12, m): 250.0 for m in (0, 15, 30, 45)}
    assert energy_to_half_hours(quarter, Keying.START).kwh == {
        utc(2024, 6, 1, 12, 0): 0.5,
        utc(2024, 6, 1, 12, 30): 0.5,
    }
    hourly = {utc(2024, 6, 1, 12): 1000.0, utc(2024, 6, 1, 13): 2000.0}
    assert energy_to_half_hours(hourly, Keying.START).kwh == {
        utc(2024, 6, 1, 12, 0): 0.5,
        utc(2024, 6, 1, 12, 30): 0.5,
        utc(2024, 6, 1, 13, 0): 1.0,
        utc(2024, 6, 1, 13, 30): 1.0,
    }
    assert energy_to_half_hours(hourly, Keying.END).kwh == {
        utc(2024, 6, 1, 11, 0): 0.5,
        utc(2024, 6, 1, 11, 30): 0.5,
        utc(2024, 6, 1, 12, 0): 1.0,
        utc(2024, 6, 1, 12, 30): 1.0,
    }
    single = energy_to_half_hours({utc(2024, 6, 1, 12, 10): 300.0}, Keying.START)
    assert single.kwh == {
        utc(2024, 6, 1, 12, 0): pytest.approx(0.2),
        utc(2024, 6, 1, 12, 30): pytest.approx(0.1),
    }


def test_an_odd_time_zone_lands_on_utc_half_hours() -> None:
    """Nepal is UTC+05:45: its hours straddle UTC half-hours."""
    nepal = {"2024-06-01T12:00:00+05:45": 1000, "2024-06-01T13:00:00+05:45": 1000}
    forecast = from_wh_hours({"wh_hours": nepal}).forecast
    assert forecast.kwh == {
        utc(2024, 6, 1, 6, 0): pytest.approx(0.25),
        utc(2024, 6, 1, 6, 30): pytest.approx(0.5),
        utc(2024, 6, 1, 7, 0): pytest.approx(0.5),
        utc(2024, 6, 1, 7, 30): pytest.approx(0.5),
        utc(2024, 6, 1, 8, 0): pytest.approx(0.25),
    }


def test_watts_alone() -> None:
    watts = {
        "2024-06-01T12:00:00+00:00": 0,
        "2024-06-01T12:30:00+00:00": 1000,
        "2024-06-01T13:00:00+00:00": 1000,
    }
    forecast = from_forecast_solar({"watts": watts}).forecast
    assert forecast.kwh == {
        utc(2024, 6, 1, 12, 0): pytest.approx(0.25),
        utc(2024, 6, 1, 12, 30): pytest.approx(0.5),
    }
    assert power_to_half_hours({utc(2024, 6, 1): 5.0}) == SolarForecast()


def test_what_cannot_be_read_is_named() -> None:
    points, problems = parse_series(
        {
            "2024-06-01T12:00:00": 5,
            "2024-06-01T12:30:00+00:00": "NaN",
            "2024-06-01T13:00:00+00:00": -3,
            "2024-06-01T13:30:00+00:00": True,
            "2024-06-01T14:00:00+00:00": "12.5",
            "soon": 1,
        },
        "wh_hours",
    )
    assert points == {utc(2024, 6, 1, 14): 12.5}
    assert len(problems) == 5
    assert "no wh_hours" in from_wh_hours({"watts": {}}).problems[0]
    assert from_wh_hours(None).forecast.empty
    assert parse_series([1, 2], "wh")[1] == ["wh is not a mapping of times to numbers"]
    assert from_solcast("nope", Estimate.P50).problems == (
        "detailedForecast is not a list",
    )
    bad = from_solcast([3, {"period_start": "x", "pv_estimate": 1}], Estimate.P50)
    assert len(bad.problems) == 2
    assert bad.forecast.empty
    assert from_attributes({"friendly_name": "x"}, Estimate.P50).forecast.empty
    assert not has_forecast({"unit_of_measurement": "kWh"})
    assert has_forecast({"detailedForecast": []})
    assert energy_to_half_hours({}, Keying.START) == SolarForecast()


def test_an_empty_forecast_knows_nothing() -> None:
    empty = SolarForecast()
    assert empty.empty
    assert not empty.covers(utc(2024, 6, 1))
    assert empty.total_kwh(utc(2024, 6, 1), utc(2024, 6, 2)) is None
    assert empty.kw((utc(2024, 6, 1),)) == (0.0,)
    assert merge([empty, empty]) == empty
    forecast = energy_to_half_hours({utc(2024, 6, 1, 12): 500.0}, Keying.START)
    assert forecast.covers(utc(2024, 6, 1, 12, 10))
    assert forecast.total_kwh(utc(2024, 6, 2), utc(2024, 6, 3)) is None
    assert forecast.day_kwh(date(2024, 6, 1), ZoneInfo("Europe/London")) == 0.5


def test_choose() -> None:
    assert choose(4.0, 2.0, Estimate.P50) == 4.0
    assert choose(4.0, 2.0, Estimate.P10) == 2.0
    assert choose(4.0, 2.0, Estimate.BLEND) == 3.0
    assert choose(4.0, None, Estimate.P10) == 4.0


def test_helpers() -> None:
    assert slot_of(datetime(2024, 6, 1, 13, 44, 59, tzinfo=UTC)) == utc(
        2024, 6, 1, 13, 30
    )
    assert typical_step([utc(2024, 6, 1)]) is None
    assert parse_time(12) is None
    assert parse_time("2024-06-01T12:00:00") is None


times = st.lists(
    st.integers(min_value=0, max_value=3 * 24 * 60),
    min_size=1,
    max_size=40,
    unique=True,
)


@settings(max_examples=200, deadline=None)
@given(minutes=times, keyed=st.sampled_from(Keying), data=st.data())
def test_every_period_keeps_its_energy(
    minutes: list[int], keyed: Keying, data: st.DataObject
) -> None:
    """Any timestamps, any values: the half-hours add up to the forecast."""
    start = utc(2024, 6, 1)
    wh = {start + timedelta(minutes=m): data.draw(st.floats(0, 5000)) for m in minutes}
    forecast = energy_to_half_hours(wh, keyed)
    assert math.isclose(total(forecast), sum(wh.values()) / 1000, abs_tol=1e-6)
    assert all(slot == slot_of(slot) for slot in forecast.kwh)
    assert all(forecast.covers(slot) for slot in forecast.kwh)
