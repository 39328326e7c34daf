"""How long a plan may take and how much memory it may use.

A :class:`Budget` is started by ``plan()`` and checked by every search: the
HiGHS solves (their ``time_limit`` and an interrupt callback), the first-plan
heuristics and the DP.  Memory is the growth of the process's resident set
since the budget started (which covers HiGHS as well as Python), and searches
that allocate large arrays ask first (:meth:`Budget.afford`).  When either
limit is reached the search stops and the best plan found so far is returned
with its proven optimality gap.
"""

from dataclasses import dataclass, field
import os
from pathlib import Path
import time

DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_MEMORY_LIMIT_MB = 256.0
_MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_RSS_EVERY_S = 0.05  # read /proc at most this often (afford() counts between)
_STATM = Path("/proc/self/statm")


class BudgetExceededError(Exception):
    """A search reached the deadline or the memory ceiling."""

    def __init__(self, reason: str) -> None:
        """Store the reason: ``"deadline"`` or ``"memory"``."""
        self.reason = reason
        super().__init__(reason)


def resident_bytes() -> int:
    """Resident set size of this process in bytes (0 where unknown)."""
    try:
        with _STATM.open("rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError, ValueError, IndexError:  # pragma: no cover - not Linux
        return 0


@dataclass(slots=True)
class Budget:
    """A deadline (monotonic seconds) and a ceiling on memory growth (bytes)."""

    deadline: float
    memory_bytes: float
    baseline: int = field(default_factory=resident_bytes)
    stopped: str | None = None  # the first limit reached
    _rss: int = 0
    _rss_at: float = -1.0
    _pending: float = 0.0  # bytes afforded since the resident set was read

    @classmethod
    def start(
        cls,
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
        memory_limit_mb: float = DEFAULT_MEMORY_LIMIT_MB,
    ) -> Budget:
        """Start a budget of ``time_limit_s`` seconds and ``memory_limit_mb`` MB."""
        return cls(time.monotonic() + time_limit_s, memory_limit_mb * _MB)

    def remaining_s(self) -> float:
        """Seconds left (never below 0)."""
        return max(0.0, self.deadline - time.monotonic())

    def used_bytes(self, now: float | None = None) -> float:
        """Growth of the resident set since the start (read at most every 50 ms).

        Between two reads, what :meth:`afford` let through counts as used.
        """
        now = time.monotonic() if now is None else now
        if now - self._rss_at >= _RSS_EVERY_S:
            self._rss = resident_bytes()
            self._rss_at = now
            self._pending = 0.0
        return max(0, self._rss - self.baseline) + self._pending

    def exceeded(self) -> str | None:
        """``"deadline"`` or ``"memory"`` once a limit is reached, else ``None``."""
        if self.stopped is None:
            now = time.monotonic()
            if now >= self.deadline:
                self.stopped = "deadline"
            elif self.used_bytes(now) > self.memory_bytes:
                self.stopped = "memory"
        return self.stopped

    def check(self) -> None:
        """Raise :class:`BudgetExceededError` once a limit is reached."""
        reason = self.exceeded()
        if reason is not None:
            raise BudgetExceededError(reason)

    def afford(self, nbytes: float) -> None:
        """Raise before allocating ``nbytes`` more than the ceiling allows."""
        self.check()
        if self.used_bytes() + nbytes > self.memory_bytes:
            self.stopped = "memory"
            raise BudgetExceededError("memory")
        self._pending += nbytes


def model_bytes(slots: int, loads: int) -> float:
    """Estimate (generously) the memory of an LP or MILP of this size.

    Python lists and HiGHS's copy hold about a kilobyte per slot and load (a
    column or two and their rows); asked before building one, so that a huge
    problem stops at the ceiling instead of growing past it.
    """
    return 1024.0 * slots * (loads + 8)
