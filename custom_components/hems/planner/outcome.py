"""What a solver hands back to ``plan()``: decisions, a lower bound, how it ended."""

from dataclasses import dataclass

from .models import Decisions

EXCESS_WEIGHT = 1e6  # p per kWh above the import limit, in best effort
# p per kWh of net import below a slot's target (min_import_kw), in every plan:
# Agile's price cap, so a target is met wherever a kWh costs less than any
# price Agile can charge.  A finite weight keeps the DP's dominance useful
# and HiGHS quick (1e6 made both one to two orders slower).
TARGET_WEIGHT = 100.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """The best decisions a solver found and what it proved about them.

    ``bound`` is a lower bound on the objective of every plan: the cost, plus
    ``TARGET_WEIGHT`` per kWh below the slots' targets, plus ``EXCESS_WEIGHT``
    per kWh above the import caps when ``weighted`` (best effort).
    ``optimal`` means the solver finished; ``stopped`` names the limit that
    stopped it (``"deadline"``, ``"memory"``) otherwise, or ``"modes"``: a
    power-controlled battery planned by its modes, not proven optimal.
    ``after`` says why the MILP went on after the DP (``method="dp+milp"``).
    """

    decisions: Decisions | None
    bound: float
    optimal: bool
    stopped: str | None = None
    weighted: bool = False
    method: str = "dp"
    after: str | None = None
