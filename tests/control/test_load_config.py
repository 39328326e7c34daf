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
            "from 0.1 to 50 kW, got -7",
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
            "arrival and departure are both 07:00",
        ),
        (
            {
                "kind": "ev_charger",
                "power_kw": 7,
                "hours": 20,
                "window_start": "17:45",
                "window_end": "07:15",
            },
            "hours",
            "20 h do not fit between 18:00 and 07:00 (13 h)",
        ),
        (
            {"kind": "ev_charger", "power_kw": 7, "hours": 3, "window_start": "late"},
            "window_start",
            "a time such as 18:00, got 'late'",
        ),
        ({"kind": "dishwasher", "profile_kwh": []}, "profile_kwh", "energy of each"),
        ({"kind": "dishwasher", "profile_kwh": "0, 0"}, "profile_kwh", "no energy"),
        ({"kind": "dishwasher", "profile_kwh": "0.5, x"}, "profile_kwh", "half-hour 2"),
        (
            {"kind": "dishwasher", "profile_kwh": 5},
            "profile_kwh",
            "separated by commas",
        ),
        ({"kind": "dishwasher", "profile_kwh": [50]}, "profile_kwh", "from 0 to 10"),
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
            "below the capacity (5 kWh)",
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
            "from 0.5 to 1, got 90",
        ),
        (
            {"kind": "battery", "capacity_kwh": True},
            "capacity_kwh",
            "enter a number, got True",
        ),
        (
            {"kind": "immersion", "power_kw": 3, "hours": 2, "actuator": {"type": "x"}},
            "actuator.type",
            "choose one of entity, gpio, i2c, select, number, none, got 'x'",
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


def test_windows_are_rounded_inwards_to_the_half_hour() -> None:
    load = parse_load(
        "car",
        {
            "kind": "ev_charger",
            "power_kw": 7,
            "hours": 3,
            "window_start": "17:45",
            "window_end": "07:15:30",
        },
    )
    assert isinstance(load, InterruptibleConfig)
    assert (load.window.start, load.window.end) == (time(18), time(7))


def test_errors_carry_a_translation_key_and_placeholders() -> None:
    with pytest.raises(LoadConfigError) as caught:
        parse_load("x", {"kind": "ev_charger", "power_kw": 70, "hours": 3})
    assert caught.value.key == "out_of_range"
    assert caught.value.placeholders == {
        "low": "0.1",
        "high": "50",
        "unit": " kW",
        "value": "70",
    }
