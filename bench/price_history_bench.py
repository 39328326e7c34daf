"""Time to load the recorded Agile history (region A 2018-2021, 61,532 slots).

Run: source scripts/_env.sh
     hems_env_run taskset -c 1 python bench/price_history_bench.py

What a replay entry reads when it starts (``prices.replay.load_price_history``
on the gzipped CSV the demo and the tests ship); the goal is under 1 s.
Prints the median and the slowest of five loads.
"""

from pathlib import Path
import statistics
import sys
import time

REPO = Path(__file__).resolve().parents[1]
HISTORY = REPO / "demo" / "agile_A_2018-02-19_2021-08-23.csv.gz"


def main() -> None:
    """Load the history five times; print the median and the slowest."""
    sys.path.insert(0, str(REPO / "scripts"))
    from hems_planner import load_planner  # noqa: PLC0415

    load_planner()  # registers custom_components without Home Assistant
    from custom_components.hems.prices.replay import (  # noqa: PLC0415
        load_price_history,
    )

    times = []
    for _ in range(5):
        began = time.perf_counter()
        slots = load_price_history(HISTORY)
        times.append(time.perf_counter() - began)
    print(
        f"{len(slots)} slots: median {statistics.median(times):.3f} s, "
        f"slowest {max(times):.3f} s"
    )


if __name__ == "__main__":
    main()
