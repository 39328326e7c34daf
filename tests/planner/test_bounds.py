"""The relaxed battery bound equals its LP (so it is a valid lower bound)."""

import highspy
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.hems.planner.bounds import cheapest_sums, relaxed_battery_values


def lp_value(prices, peak, soc, cap, smin, charge, discharge, eff):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    count = len(prices)
    c = [h.addVariable(0, charge) for _ in range(count)]
    d = [h.addVariable(0, min(discharge, peak[t])) for t in range(count)]
    s = [h.addVariable(smin, cap) for _ in range(count)]
    for t in range(count):
        if t:
            h.addConstr(s[t] - s[t - 1] - eff * c[t] + d[t] == 0)
        else:
            h.addConstr(s[t] - eff * c[t] + d[t] == soc)
    h.minimize(sum(prices[t] * (c[t] - d[t]) for t in range(count)))
    return h.getInfo().objective_function_value


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from([-5.0, 0.0, 3.0, 10.0, 20.0, 31.5]), min_size=1, max_size=5
    ),
    st.sampled_from([0.2, 1.0, 3.0]),
    st.sampled_from([2.0, 5.0]),
    st.sampled_from([0.0, 0.5]),
    st.sampled_from([0.0, 1.0, 2.5]),
    st.sampled_from([0.5, 1.0, 2.0]),
    st.sampled_from([1.0, 0.9, 0.75]),
    st.floats(0, 1),
)
def test_relaxed_battery_matches_lp(
    prices, peak, cap, smin, charge, discharge, eff, frac
):
    soc = smin + frac * (cap - smin)
    values = relaxed_battery_values(
        prices,
        [peak] * len(prices),
        capacity=cap,
        min_soc=smin,
        charge_kwh=charge,
        discharge_kwh=discharge,
        efficiency=eff,
    )
    assert values[-1](soc) == 0
    assert values[0](soc) == pytest.approx(
        lp_value(prices, [peak] * len(prices), soc, cap, smin, charge, discharge, eff),
        abs=1e-6,
    )


def test_cheapest_sums():
    table = cheapest_sums([5.0, 1.0, 3.0, 2.0], [True, True, False, True], 2)
    assert table[0][2] == 3.0
    assert table[2][1] == 2.0
    assert table[3][2] == float("inf")
