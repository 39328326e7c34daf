"""Load settings: parsing and the messages for bad values."""

from datetime import time

import pytest

from custom_components.hems.load_config import (
    ActuatorKind,
    BatteryConfig,
    CycleConfig,
    InterruptibleConfig,
    LoadConfigError,
    parse_load,
    parse_profile,
)


def test_ev_charger_with_plug() -> None:
    load = parse_load(
        "car",
        {
            "kind": "ev_charger",
            "name": "Car",
            "power_kw": 7,
            "hours": 3,
            "window_start": "18:00",
            "window_end": "07:00",
            "opportunistic_price": 0,
            "actuator": {"type": "entity", "entity_id": "switch.car"},
        },
    )
    assert isinstance(load, InterruptibleConfig)
    assert load.slots == 6
    assert load.window.crosses_midnight
    assert load.window.start == time(18)
    assert load.opportunistic_price == 0.0
    assert load.actuator.kind is ActuatorKind.ENTITY


def test_wet_goods_and_battery() -> None:
    washer = parse_load(
        "w",
        {
            "kind": "washing_machine",
            "profile_kwh": "0.5, 0.05; 0.08",
            "window_start": "22:00",
            "window_end": "07:00",
        },
    )
    assert isinstance(washer, CycleConfig)
    assert washer.profile_kwh == (0.5, 0.05, 0.08)
    assert washer.actuator.kind is ActuatorKind.NONE
    battery = parse_load(
        "b",
        {
            "kind": "battery",
            "capacity_kwh": 5,
            "charge_kw": 2.5,
            "discharge_kw": 2.5,
            "efficiency": 0.9,
            "soc_entity": "sensor.soc",
        },
    )
    assert isinstance(battery, BatteryConfig)
    assert battery.min_soc_kwh == 0.0


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "kettle"}, "kind", "unknown load kind"),
        (
            {"kind": "ev_charger", "power_kw": -7, "hours": 3},
            "power_kw",
            "more than 0",
        ),
        (
            {"kind": "ev_charger", "power_kw": 7, "hours": 1.2},
            "hours",
            "half-hours",
        ),
        (
            {
                "kind": "ev_charger",
                "power_kw": 7,
                "hours": 3,
                "window_start": "07:00",
                "window_end": "07:00",
            },
            "window_end",
            "departure must differ",
        ),
        (
            {"kind": "ev_charger", "power_kw": 7, "hours": 3, "window_start": "18:10"},
            "window_start",
            "half-hour",
        ),
        (
            {"kind": "ev_charger", "power_kw": 7, "hours": 3, "window_start": "late"},
            "window_start",
            "time like 18:00",
        ),
        ({"kind": "dishwasher", "profile_kwh": []}, "profile_kwh", "empty"),
        ({"kind": "dishwasher", "profile_kwh": "0, 0"}, "profile_kwh", "no energy"),
        ({"kind": "dishwasher", "profile_kwh": "0.5, x"}, "profile_kwh", "half-hour 2"),
        ({"kind": "dishwasher", "profile_kwh": 5}, "profile_kwh", "list of kWh"),
        ({"kind": "dishwasher", "profile_kwh": [50]}, "profile_kwh", "out of range"),
        (
            {"kind": "dishwasher", "profile_kwh": [1], "max_cycle_cost": "dear"},
            "max_cycle_cost",
            "number",
        ),
        (
            {
                "kind": "battery",
                "capacity_kwh": 5,
                "min_soc_kwh": 5,
                "charge_kw": 1,
                "discharge_kw": 1,
                "efficiency": 0.9,
            },
            "min_soc_kwh",
            "below the capacity",
        ),
        (
            {
                "kind": "battery",
                "capacity_kwh": 5,
                "charge_kw": 1,
                "discharge_kw": 1,
                "efficiency": 90,
            },
            "efficiency",
            "fraction",
        ),
        (
            {"kind": "battery", "capacity_kwh": True},
            "capacity_kwh",
            "a number is needed",
        ),
        (
            {"kind": "immersion", "power_kw": 3, "hours": 2, "actuator": {"type": "x"}},
            "actuator.type",
            "unknown type",
        ),
    ],
)
def test_bad_settings_name_the_field(
    data: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(LoadConfigError) as caught:
        parse_load("x", data)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_profile_from_list() -> None:
    assert parse_profile([0.9, "0.1", 0]) == (0.9, 0.1, 0.0)
