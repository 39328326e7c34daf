"""Measured appliance cycles offered as defaults for wet goods.

Energy per half-hour from cycle start, aggregated from 1-second power traces
of real Miele (MI) and Bosch-Siemens (BS) machines by the OSHv4 project
(GitHub organicsmarthome/OSHv4, source/osh_driver_appliance/data/profiles,
commit ed663b59), GPL-3.0, as hems itself.
"""

from typing import Final

from .load_config import LoadKind

MEASURED_PROFILES: Final[dict[str, tuple[LoadKind, tuple[float, ...]]]] = {
    "dishwasher_eco": (LoadKind.DISHWASHER, (0.331, 0.362, 0.214, 0.016, 0.005)),
    "dishwasher_normal": (LoadKind.DISHWASHER, (0.643, 0.489, 0.17)),
    "dishwasher_intensive": (
        LoadKind.DISHWASHER,
        (0.263, 0.624, 0.029, 0.221, 0.397, 0.012),
    ),
    "washing_machine_40": (LoadKind.WASHING_MACHINE, (0.526, 0.046, 0.079, 0.002)),
    "washing_machine_60": (LoadKind.WASHING_MACHINE, (0.919, 0.059, 0.061)),
    "washing_machine_cotton": (
        LoadKind.WASHING_MACHINE,
        (0.46, 0.657, 0.088, 0.026, 0.002),
    ),
}
