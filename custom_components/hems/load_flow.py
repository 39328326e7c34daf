"""Config subentry flow: add, edit and remove controlled loads from the UI."""

from typing import Any, cast

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TimeSelector,
    TimeSelectorConfig,
    make_selector_config_schema,
)
import probatio

from .actuators import I2cBoard
from .form_fields import Errors, number_box
from .load_config import (
    ALL_BATTERY_MODES,
    BATTERY_MODES,
    WET_GOODS,
    ActuatorKind,
    BatteryControl,
    CycleConfig,
    LoadConfigError,
    LoadKind,
    parse_actuator,
    parse_load,
    parse_time,
    round_window,
)
from .profiles import MEASURED_PROFILES

CUSTOM_PROFILE = "custom"
ACTUATOR_STEPS = {
    ActuatorKind.ENTITY: "entity_actuator",
    ActuatorKind.GPIO: "gpio_actuator",
    ActuatorKind.I2C: "i2c_actuator",
    ActuatorKind.SELECT: "select_actuator",
    ActuatorKind.NUMBER: "number_actuator",
    ActuatorKind.NONE: "no_actuator",
}


class HalfHourSelector(TimeSelector):
    """A time picker without seconds (the frontend's ``no_second``)."""

    CONFIG_SCHEMA = make_selector_config_schema({probatio.Optional("no_second"): bool})

    def __init__(self) -> None:
        """Hide the seconds: windows are rounded to the half-hour anyway."""
        super().__init__(cast("TimeSelectorConfig", {"no_second": True}))


POWER = number_box(0.1, "kW")
HOURS = number_box(0.5, "h")
PENCE = number_box(0.01, "p")
PRICE = number_box(0.01, "p/kWh")
ENERGY = number_box(0.1, "kWh")
PRIORITY = number_box(1)


def kind_schema(kind: LoadKind) -> probatio.Schema:
    """Return the form of a load kind's settings."""
    name = {probatio.Required("name"): TextSelector()}
    window = {
        probatio.Required("window_start"): HalfHourSelector(),
        probatio.Required("window_end"): HalfHourSelector(),
    }
    match kind:
        case LoadKind.EV_CHARGER:
            return probatio.Schema(
                {
                    **name,
                    probatio.Required("power_kw", default=7.0): POWER,
                    probatio.Required("hours", default=3.0): HOURS,
                    probatio.Required(
                        "window_start", default="18:00:00"
                    ): HalfHourSelector(),
                    probatio.Required(
                        "window_end", default="07:00:00"
                    ): HalfHourSelector(),
                    probatio.Optional("opportunistic_price"): PRICE,
                    probatio.Optional("divert_priority"): PRIORITY,
                    probatio.Optional("car_soc_entity"): EntitySelector(
                        EntitySelectorConfig(
                            domain=["sensor", "number", "input_number"]
                        )
                    ),
                    probatio.Optional("car_battery_kwh"): ENERGY,
                    probatio.Optional("target_soc"): number_box(1, "%"),
                    probatio.Optional("charger_efficiency"): number_box(0.01),
                }
            )
        case LoadKind.IMMERSION:
            return probatio.Schema(
                {
                    **name,
                    probatio.Required("power_kw", default=3.0): POWER,
                    probatio.Required("hours", default=2.0): HOURS,
                    probatio.Required(
                        "cheaper_than_gas", default=True
                    ): BooleanSelector(),
                    probatio.Required("boiler_efficiency", default=0.9): number_box(
                        0.01
                    ),
                    probatio.Required(
                        "window_start", default="00:00:00"
                    ): HalfHourSelector(),
                    probatio.Required(
                        "window_end", default="00:00:00"
                    ): HalfHourSelector(),
                    probatio.Optional("divert_priority"): PRIORITY,
                }
            )
        case LoadKind.DISHWASHER | LoadKind.WASHING_MACHINE:
            profiles = [key for key, (k, _) in MEASURED_PROFILES.items() if k is kind]
            return probatio.Schema(
                {
                    **name,
                    probatio.Required("profile", default=profiles[0]): SelectSelector(
                        SelectSelectorConfig(
                            options=[*profiles, CUSTOM_PROFILE],
                            translation_key="profile",
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    ),
                    probatio.Optional("profile_kwh"): TextSelector(),
                    **window,
                    probatio.Optional("max_cycle_cost"): PENCE,
                }
            )
        case LoadKind.BATTERY:
            return probatio.Schema(
                {
                    **name,
                    probatio.Required("capacity_kwh", default=5.0): ENERGY,
                    probatio.Required("charge_kw", default=2.5): POWER,
                    probatio.Required("discharge_kw", default=2.5): POWER,
                    probatio.Required("efficiency", default=0.9): number_box(0.01),
                    probatio.Required("min_soc_kwh", default=0.0): number_box(
                        0.1, "kWh"
                    ),
                    probatio.Required("soc_entity"): EntitySelector(
                        EntitySelectorConfig(
                            domain=["sensor", "number", "input_number"]
                        )
                    ),
                    probatio.Required(
                        "control", default=BatteryControl.MODES.value
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=[control.value for control in BatteryControl],
                            translation_key="battery_control",
                        )
                    ),
                    probatio.Optional("modes"): SelectSelector(
                        SelectSelectorConfig(
                            options=list(ALL_BATTERY_MODES),
                            multiple=True,
                            translation_key="battery_modes",
                        )
                    ),
                }
            )


ACTUATOR_SCHEMAS = {
    "entity_actuator": probatio.Schema(
        {
            probatio.Required("entity_id"): EntitySelector(
                EntitySelectorConfig(domain=["switch", "input_boolean", "light"])
            )
        }
    ),
    "gpio_actuator": probatio.Schema(
        {
            probatio.Required("pin"): number_box(1),
            probatio.Required("active_high", default=True): BooleanSelector(),
        }
    ),
    "i2c_actuator": probatio.Schema(
        {
            probatio.Required("bus", default=1): number_box(1),
            probatio.Required("address", default="0x10"): TextSelector(),
            probatio.Required("channel", default=1): number_box(1),
            probatio.Required(
                "board", default=I2cBoard.REGISTER_PER_CHANNEL.value
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[board.value for board in I2cBoard],
                    translation_key="board",
                )
            ),
        }
    ),
    "select_actuator": probatio.Schema(
        {
            probatio.Required("entity_id"): EntitySelector(
                EntitySelectorConfig(domain=["select", "input_select"])
            )
        }
    ),
    "number_actuator": probatio.Schema(
        {
            probatio.Required("entity_id"): EntitySelector(
                EntitySelectorConfig(domain=["number", "input_number"])
            ),
            probatio.Required("unit", default="W"): SelectSelector(
                SelectSelectorConfig(options=["W", "kW"])
            ),
            probatio.Required("charge_positive", default=True): BooleanSelector(),
            probatio.Required("min_interval_s", default=300): number_box(1, "s"),
            probatio.Required("step_kw", default=0.1): number_box(0.01, "kW"),
        }
    ),
}


class LoadSubentryFlow(ConfigSubentryFlow):
    """Add or edit one controlled load: its kind's settings, then its switch."""

    def __init__(self) -> None:
        """Start with nothing collected."""
        self._kind: LoadKind | None = None
        self._data: dict[str, Any] = {}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask what kind of load to add."""
        return self.async_show_menu(
            step_id="user", menu_options=[kind.value for kind in LoadKind]
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit a load: its settings with the current values, then its switch."""
        subentry = self._get_reconfigure_subentry()
        self._kind = LoadKind(subentry.data["kind"])
        self._data = dict(subentry.data)
        return await self._async_kind_step(None)

    async def async_step_ev_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for an EV charger's settings."""
        return await self._async_kind_step(user_input, LoadKind.EV_CHARGER)

    async def async_step_immersion(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for an immersion heater's settings."""
        return await self._async_kind_step(user_input, LoadKind.IMMERSION)

    async def async_step_dishwasher(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for a dishwasher's settings."""
        return await self._async_kind_step(user_input, LoadKind.DISHWASHER)

    async def async_step_washing_machine(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for a washing machine's settings."""
        return await self._async_kind_step(user_input, LoadKind.WASHING_MACHINE)

    async def async_step_battery(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for a home battery's settings."""
        return await self._async_kind_step(user_input, LoadKind.BATTERY)

    async def _async_kind_step(
        self, user_input: dict[str, Any] | None, kind: LoadKind | None = None
    ) -> SubentryFlowResult:
        kind = kind or self._kind
        assert kind is not None  # noqa: S101 - set by the menu or reconfigure
        self._kind = kind
        errors: Errors = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            data = self._normalise(kind, user_input)
            try:
                config = parse_load("new", data)
                self._check_entities(data)
            except LoadConfigError as err:
                errors[_form_field(err, kind_schema(kind))] = err.key
                placeholders = err.placeholders
            else:
                if isinstance(config, CycleConfig):
                    data["profile_kwh"] = list(config.profile_kwh)
                self._data = {**self._data, **data}
                return await self.async_step_actuator()
        suggested = user_input or _form_values(self._data)
        return self.async_show_form(
            step_id=kind.value,
            data_schema=self.add_suggested_values_to_schema(
                kind_schema(kind), suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _normalise(self, kind: LoadKind, user_input: dict[str, Any]) -> dict[str, Any]:
        """Turn form values into stored settings (times HH:MM, profile list)."""
        data = {"kind": kind.value, **user_input}
        if "window_start" in data and "window_end" in data:
            start, end = round_window(
                parse_time(data["window_start"], "window_start"),
                parse_time(data["window_end"], "window_end"),
            )
            data["window_start"] = start.strftime("%H:%M")
            data["window_end"] = end.strftime("%H:%M")
        if kind in WET_GOODS:
            choice = data.pop("profile", CUSTOM_PROFILE)
            if choice != CUSTOM_PROFILE:
                data["profile_kwh"] = list(MEASURED_PROFILES[choice][1])
                data["profile_name"] = choice
            else:
                data.pop("profile_name", None)
        return data

    def _check_entities(self, data: dict[str, Any]) -> None:
        entity_id = data.get("car_soc_entity")
        if entity_id and self.hass.states.get(entity_id) is None:
            raise LoadConfigError("car_soc_entity", "entity_not_found", value=entity_id)
        entity_id = data.get("soc_entity")
        if entity_id and self.hass.states.get(entity_id) is None:
            raise LoadConfigError("soc_entity", "entity_not_found", value=entity_id)

    async def async_step_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask how the load is switched."""
        power = self._data.get("control") == BatteryControl.POWER.value
        kinds = (
            [ActuatorKind.NUMBER if power else ActuatorKind.SELECT, ActuatorKind.NONE]
            if self._kind is LoadKind.BATTERY
            else [
                ActuatorKind.ENTITY,
                ActuatorKind.GPIO,
                ActuatorKind.I2C,
                ActuatorKind.NONE,
            ]
        )
        options = [ACTUATOR_STEPS[kind] for kind in kinds]
        current = self._data.get("actuator")
        if self.source == "reconfigure" and current:
            options.insert(0, "keep_actuator")
        return self.async_show_menu(
            step_id="actuator",
            menu_options=options,
            description_placeholders={"current": _describe_actuator(current)},
        )

    async def async_step_keep_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Keep the way the load is switched now."""
        return self._async_finish(dict(self._data["actuator"]))

    async def async_step_no_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Plan and show the load without switching it."""
        return self._async_finish({"type": ActuatorKind.NONE.value})

    async def async_step_entity_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Switch the load with an entity (smart plug, switch, light)."""
        return await self._async_actuator_form(
            "entity_actuator", ActuatorKind.ENTITY, user_input
        )

    async def async_step_gpio_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Switch the load with a relay on a GPIO pin."""
        return await self._async_actuator_form(
            "gpio_actuator", ActuatorKind.GPIO, user_input
        )

    async def async_step_i2c_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Switch the load with a relay channel on an I2C HAT."""
        return await self._async_actuator_form(
            "i2c_actuator", ActuatorKind.I2C, user_input
        )

    async def async_step_number_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Drive the battery's power through a number entity (a setpoint)."""
        return await self._async_actuator_form(
            "number_actuator", ActuatorKind.NUMBER, user_input
        )

    async def async_step_select_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Drive the battery's mode through a select entity."""
        return await self._async_actuator_form(
            "select_actuator", ActuatorKind.SELECT, user_input
        )

    async def _async_actuator_form(
        self, step_id: str, kind: ActuatorKind, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        errors: Errors = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            actuator = {"type": kind.value, **user_input}
            try:
                actuator = self._check_actuator(kind, actuator)
            except LoadConfigError as err:
                errors[_form_field(err, ACTUATOR_SCHEMAS[step_id])] = err.key
                placeholders = err.placeholders
            else:
                if kind is ActuatorKind.SELECT:
                    self._data["actuator"] = actuator
                    return await self.async_step_select_options()
                return self._async_finish(actuator)
        previous = self._data.get("actuator") or {}
        suggested = user_input or (
            {k: v for k, v in previous.items() if k != "type"}
            if previous.get("type") == kind.value
            else {}
        )
        if "address" in suggested and isinstance(suggested["address"], int):
            suggested = {**suggested, "address": f"0x{suggested['address']:02x}"}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                ACTUATOR_SCHEMAS[step_id], suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _check_actuator(
        self, kind: ActuatorKind, actuator: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate an actuator's settings; return them normalised."""
        if kind in (ActuatorKind.ENTITY, ActuatorKind.SELECT, ActuatorKind.NUMBER):
            entity_id = actuator["entity_id"]
            if self.hass.states.get(entity_id) is None:
                raise LoadConfigError(
                    "actuator.entity_id", "entity_not_found", value=entity_id
                )
            if kind is not ActuatorKind.SELECT:  # its options come next
                parse_actuator(actuator)
            return actuator
        if kind is ActuatorKind.I2C:
            try:
                actuator["address"] = int(str(actuator["address"]), 0)
            except ValueError:
                raise LoadConfigError(
                    "actuator.address", "address_needed", value=actuator["address"]
                ) from None
        for key in ("pin", "bus", "channel"):
            if isinstance(actuator.get(key), float) and actuator[key].is_integer():
                actuator[key] = int(actuator[key])
        parse_actuator(actuator)
        return actuator

    async def async_step_select_options(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Map the modes the inverter offers to the entity's options."""
        actuator = self._data["actuator"]
        state = self.hass.states.get(actuator["entity_id"])
        options = list(state.attributes.get("options", [])) if state else []
        if user_input is not None:
            return self._async_finish({**actuator, "options": dict(user_input)})
        selector = SelectSelector(SelectSelectorConfig(options=options))
        offered = self._data.get("modes") or list(BATTERY_MODES)
        schema = probatio.Schema(
            {
                probatio.Required(mode): selector
                for mode in ALL_BATTERY_MODES
                if mode in offered
            }
        )
        return self.async_show_form(
            step_id="select_options",
            data_schema=self.add_suggested_values_to_schema(
                schema, actuator.get("options") or {}
            ),
            description_placeholders={"entity": actuator["entity_id"]},
        )

    def _async_finish(self, actuator: dict[str, Any]) -> SubentryFlowResult:
        data = {**self._data, "actuator": actuator}
        title = str(data["name"])
        if self.source == "reconfigure":
            return self.async_update_and_abort(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=title,
                data=data,
                reason="load_updated",
            )
        return self.async_create_entry(title=title, data=data)


def _describe_actuator(actuator: dict[str, Any] | None) -> str:
    """Say how a load is switched now, for the menu ("switch.car_plug")."""
    if not actuator:
        return "not switched"
    match actuator.get("type"):
        case ActuatorKind.ENTITY | ActuatorKind.SELECT:
            return str(actuator.get("entity_id"))
        case ActuatorKind.GPIO:
            return f"GPIO {actuator.get('pin')}"
        case ActuatorKind.I2C:
            address = actuator.get("address")
            shown = f"0x{address:02x}" if isinstance(address, int) else address
            return (
                f"I2C bus {actuator.get('bus')}, {shown}, "
                f"channel {actuator.get('channel')}"
            )
        case _:
            return "not switched"


def _form_field(err: LoadConfigError, schema: probatio.Schema) -> str:
    """Return the form field an error belongs to ("base" if none)."""
    field = err.field.removeprefix("actuator.")
    return field if field in {str(key) for key in schema.schema} else "base"


def _form_values(data: dict[str, Any]) -> dict[str, Any]:
    """Return stored settings as form values."""
    values = {k: v for k, v in data.items() if k not in ("kind", "actuator")}
    if "profile_kwh" in values:
        if name := values.pop("profile_name", None):
            values["profile"] = name
            values.pop("profile_kwh")
        else:
            values["profile"] = CUSTOM_PROFILE
            values["profile_kwh"] = ", ".join(f"{kwh:g}" for kwh in data["profile_kwh"])
    for key in ("window_start", "window_end"):
        if key in values:
            values[key] = f"{values[key]}:00"
    return values
