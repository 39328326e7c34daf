"""What the config, options and sub-entry forms share: result types, a number box."""

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

type Errors = dict[str, str]
type Placeholders = dict[str, str]


def number_box(
    step: float, unit: str | None = None, *, minimum: float | None = None
) -> NumberSelector:
    """Return a number box.

    Its range is checked by the settings parser, whose messages are translated
    and say the range (the selector's own would be English); ``minimum`` only
    keeps the box's arrows from going below it.
    """
    config = NumberSelectorConfig(step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    if minimum is not None:
        config["min"] = minimum
    return NumberSelector(config)
