"""``python -m custom_components.hems.planner`` from the repository root.

That imports the integration's ``__init__`` (Home Assistant) first;
``scripts/hems`` runs the same command line without it.
"""

import sys

from .cli import main

sys.exit(main())
