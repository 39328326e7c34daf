"""``python -m planner`` (with PYTHONPATH=custom_components/hems)."""

import sys

from .cli import main

sys.exit(main())
