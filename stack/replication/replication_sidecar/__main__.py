"""Run the sidecar: ``python -m replication_sidecar``."""

import sys

from .service import main

sys.exit(main())
