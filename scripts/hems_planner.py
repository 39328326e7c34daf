"""Run the planner's command line (``scripts/hems``) without Home Assistant.

The planner lives inside the integration: ``custom_components/hems/__init__.py``
imports Home Assistant, and that folder's ``calendar.py`` and ``select.py``
would shadow the standard library's modules if the folder were on
``sys.path``.  So the two parent packages are registered as plain folders
(their ``__init__`` is not run) and the planner is imported under its own
name, ``custom_components.hems.planner``.  Run this file with ``python -P`` so
that neither its folder nor the working directory is put on ``sys.path``.
"""

import importlib
from pathlib import Path
import sys
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def _folder(name: str, path: Path) -> ModuleType:
    """Return the package of a folder, registered without running its ``__init__``."""
    package = sys.modules.get(name)
    if package is None:
        package = ModuleType(name)
        package.__path__ = [str(path)]
        sys.modules[name] = package
    return package


def load_planner() -> ModuleType:
    """Import ``custom_components.hems.planner`` without the integration."""
    folder = REPO / "custom_components"
    components = _folder("custom_components", folder)
    components.hems = _folder("custom_components.hems", folder / "hems")
    return importlib.import_module("custom_components.hems.planner")


def main() -> int:
    """Run ``hems`` with the command-line arguments; return the exit status."""
    load_planner()
    cli = importlib.import_module("custom_components.hems.planner.cli")
    status: int = cli.main(sys.argv[1:])
    return status


if __name__ == "__main__":
    sys.exit(main())
