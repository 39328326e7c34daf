"""A silent, single-threaded HiGHS instance (highspy is imported lazily)."""

import ctypes
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import highspy

    from .budget import Budget

_banner_lock = threading.Lock()
_banner_done = False


def new_highs() -> highspy.Highs:
    """Create a silent HiGHS instance (its one-off banner would corrupt stdout)."""
    global _banner_done  # noqa: PLW0603
    import highspy  # noqa: PLC0415 - keeps importing the package cheap

    with _banner_lock:
        if _banner_done:
            solver = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                solver = highspy.Highs()  # type: ignore[no-untyped-call]
                ctypes.CDLL(None).fflush(None)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
            _banner_done = True
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("threads", 1)
    return solver


def interrupt_on(solver: highspy.Highs, budget: Budget) -> None:
    """Stop ``solver`` once ``budget``'s deadline or memory ceiling is reached.

    HiGHS calls back during simplex iterations and the branch and bound; its
    own ``time_limit`` is set to the time left as well.
    """

    def check(event: Any) -> None:
        if budget.exceeded() is not None:
            event.interrupt()

    solver.setOptionValue("time_limit", max(budget.remaining_s(), 1e-3))
    solver.cbSimplexInterrupt += check
    solver.cbMipInterrupt += check
