"""Feed-loss tracking: whether the replication stream still delivers.

A replication reports its queue (``currentQueueSizeBytes``), what is left to
send (``remainingBytesToBeSynced``) and the cloud's latest answer
(``latestResponseCode``, ``latestErrorMessage``). The tracker turns a series
of those into a problem flag with a reason Home Assistant shows.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from influxdb_client.domain.replication import Replication

QUEUE_ALARM_RATIO = 0.9
MESSAGE_LIMIT = 240


@dataclass(frozen=True, kw_only=True)
class Status:
    """One reading of a replication's health fields."""

    queue_bytes: int
    remaining_bytes: int
    max_queue_bytes: int
    response_code: int | None
    error_message: str

    @classmethod
    def of(cls, rep: Replication) -> Status:
        """Read the health fields of a replication from the API."""
        code = rep.latest_response_code
        return cls(
            queue_bytes=int(rep.current_queue_size_bytes or 0),
            remaining_bytes=int(rep.remaining_bytes_to_be_synced or 0),
            max_queue_bytes=int(rep.max_queue_size_bytes or 0),
            response_code=int(code) if code else None,
            error_message=(rep.latest_error_message or "").strip(),
        )


@dataclass(frozen=True, kw_only=True)
class Report:
    """What the sidecar tells Home Assistant."""

    problem: bool
    reason: str
    queue_bytes: int | None = None
    remaining_bytes: int | None = None
    response_code: int | None = None
    error_message: str = ""
    checked_at: str = ""

    def payload(self) -> dict[str, Any]:
        """Return the JSON state message (``problem`` as ON/OFF)."""
        body = asdict(self)
        body["problem"] = "ON" if self.problem else "OFF"
        return body


def problem(reason: str, now: datetime) -> Report:
    """Return a problem report without replication figures."""
    return Report(problem=True, reason=reason, checked_at=_stamp(now))


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")


class Tracker:
    """Judges successive readings of one replication."""

    def __init__(self, stall_seconds: float) -> None:
        """Flag a stall when the backlog has not shrunk for ``stall_seconds``."""
        self._stall_seconds = stall_seconds
        self._remaining: int | None = None
        self._progress_at: datetime | None = None

    def observe(self, status: Status, now: datetime) -> Report:
        """Return the report for a new reading taken at ``now``."""
        if (
            self._remaining is None
            or self._progress_at is None
            or status.remaining_bytes < self._remaining
            or status.remaining_bytes == 0
        ):
            self._progress_at = now
        self._remaining = status.remaining_bytes
        reason = self._reason(status, now)
        return Report(
            problem=bool(reason),
            reason=reason or "replicating",
            queue_bytes=status.queue_bytes,
            remaining_bytes=status.remaining_bytes,
            response_code=status.response_code,
            error_message=status.error_message[:MESSAGE_LIMIT],
            checked_at=_stamp(now),
        )

    def _reason(self, status: Status, now: datetime) -> str:
        code = status.response_code
        if code is not None and not 200 <= code < 300:  # noqa: PLR2004
            detail = f": {status.error_message}" if status.error_message else ""
            return f"InfluxDB Cloud answered HTTP {code}{detail}"[:MESSAGE_LIMIT]
        if code is None and status.error_message:
            return f"replication error: {status.error_message}"[:MESSAGE_LIMIT]
        if (
            status.max_queue_bytes
            and status.queue_bytes >= QUEUE_ALARM_RATIO * status.max_queue_bytes
        ):
            return (
                f"queue {status.queue_bytes} of {status.max_queue_bytes} bytes: "
                "nearly full, the oldest data will be dropped"
            )
        assert self._progress_at is not None  # noqa: S101
        stalled = (now - self._progress_at).total_seconds()
        if status.remaining_bytes and stalled >= self._stall_seconds:
            return (
                f"no progress for {int(stalled)} s with "
                f"{status.remaining_bytes} bytes to send"
            )
        return ""
