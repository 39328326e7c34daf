"""Run the bootstrap before Home Assistant starts: ``python3 -m hems_bootstrap``."""

import sys

from hems_bootstrap import main

sys.exit(main())
