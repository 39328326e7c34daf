"""The sidecar's loop: reconcile once, then watch and report.

Each round either reconciles (at start, and again after a failure or when
the replication went missing) or reads the replication's health, and
publishes one report. Secrets never reach the log: errors are logged by
their InfluxDB code and message only.
"""

from collections.abc import Callable
from datetime import UTC, datetime
import logging
import os
import signal
import threading
from types import FrameType

from .health import Report, Status, Tracker, problem
from .influx import InfluxApi, InfluxError, NotFoundError, UnreachableError
from .mqtt import Reporter
from .reconcile import reconcile
from .settings import Settings, SettingsError

_LOGGER = logging.getLogger(__name__)


class Watcher:
    """Keeps the replication in place and judges its health, one round a call."""

    def __init__(
        self,
        api: InfluxApi,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Watch the replication ``settings`` describe through ``api``."""
        self._api = api
        self._settings = settings
        self._clock = clock
        self._tracker = Tracker(settings.stall_seconds)
        self.replication_id = ""

    def round(self) -> Report:
        """Reconcile if needed, read the health, and return the report."""
        now = self._clock()
        try:
            if not self.replication_id:
                outcome = reconcile(self._api, self._settings)
                for action in outcome.actions:
                    _LOGGER.info("%s", action)
                if not outcome.actions:
                    _LOGGER.info("remote and replication already up to date")
                self.replication_id = outcome.replication_id
            status = Status.of(self._api.replication(self.replication_id))
        except UnreachableError as err:
            _LOGGER.warning("local InfluxDB unreachable (%s)", err)
            return problem("local InfluxDB unreachable", now)
        except NotFoundError as err:
            if self.replication_id:
                _LOGGER.warning("replication gone (%s): recreating", err)
                self.replication_id = ""
                return problem("replication missing: recreating it", now)
            _LOGGER.warning("cannot set up replication: %s", err)
            return problem(f"cannot set up replication: {err}", now)
        except InfluxError as err:
            _LOGGER.warning("InfluxDB refused: %s", err)
            self.replication_id = ""
            return problem(f"InfluxDB refused: {err}", now)
        return self._tracker.observe(status, now)


def not_configured(now: datetime) -> Report:
    """Return the report of a box that replicates nowhere (no problem)."""
    return Report(
        problem=False,
        reason="replication not configured (INFLUXDB_CLOUD_URL is empty)",
        checked_at=now.astimezone(UTC).isoformat(timespec="seconds"),
    )


def run(settings: Settings, stop: threading.Event) -> None:
    """Run until ``stop`` is set."""
    reporter = Reporter(
        settings.mqtt_host,
        settings.mqtt_port,
        settings.mqtt_username,
        settings.mqtt_password,
        settings.node_id,
    )
    if not reporter.connect():
        _LOGGER.warning("MQTT not connected yet; retrying in the background")
    try:
        if not settings.enabled:
            _LOGGER.info("INFLUXDB_CLOUD_URL is empty: nothing to replicate")
            reporter.publish(not_configured(datetime.now(UTC)))
            stop.wait()
            return
        api = InfluxApi(settings.local_url, settings.local_token)
        try:
            watcher = Watcher(api, settings)
            while not stop.is_set():
                reporter.publish(watcher.round())
                stop.wait(settings.poll_seconds)
        finally:
            api.close()
    finally:
        reporter.close()


def main() -> int:
    """Read the settings from the environment and run until SIGTERM."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as err:
        _LOGGER.error("not starting: %s", err)  # noqa: TRY400
        return 1
    _LOGGER.info("settings: %s", settings)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(settings, stop)
    return 0
