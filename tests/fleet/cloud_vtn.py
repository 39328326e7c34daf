"""An aggregator's OpenADR 2.0b VTN (openleadr's own server), run as a process.

``python -m tests.fleet.cloud_vtn EVENTS RECORD`` serves on 0.0.0.0:8080 and
offers each VEN that registers the events in the JSON file EVENTS (a list of
``{"event_id", "start", "minutes", "level"}``, SIMPLE level signals). What the
VENs do is appended to RECORD as JSON lines: ``registered`` (VEN name and the
id it was given) and ``opted`` (its answer to an event).
"""

import asyncio
from datetime import datetime, timedelta
import json
from pathlib import Path
import signal
import sys
from typing import Any

from openleadr import OpenADRServer

from tests.openleadr_vtn import fix_openleadr_vtn

PORT = 8080


class CloudVtn:
    """The VTN and its record file."""

    def __init__(self, events: list[dict[str, Any]], record: Path) -> None:
        """Make the server (not started)."""
        self.events = events
        self.record = record
        self.server = OpenADRServer(
            vtn_id="cloud-vtn",
            http_host="0.0.0.0",  # noqa: S104 - the cloud namespace's own address
            http_port=PORT,
            requested_poll_freq=timedelta(seconds=1),
            show_fingerprint=False,
        )
        fix_openleadr_vtn()
        self.server.add_handler("on_create_party_registration", self._register)

    def _write(self, **fields: Any) -> None:
        with self.record.open("a") as out:
            out.write(json.dumps(fields) + "\n")

    def _register(self, info: dict[str, Any]) -> tuple[str, str]:
        name = str(info.get("ven_name"))
        ven_id = f"ven-{name}"
        self._write(what="registered", ven_name=name, ven_id=ven_id)
        for event in self.events:
            self.server.add_event(
                ven_id=ven_id,
                signal_name="simple",
                signal_type="level",
                intervals=[
                    {
                        "dtstart": datetime.fromisoformat(event["start"]),
                        "duration": timedelta(minutes=event["minutes"]),
                        "signal_payload": float(event["level"]),
                    }
                ],
                callback=self._opted,
                event_id=event["event_id"],
            )
        return ven_id, f"reg-{name}"

    def _opted(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self._write(what="opted", ven_id=ven_id, event_id=event_id, opt=opt_type)

    async def serve(self) -> None:
        """Serve until SIGTERM."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await self.server.run()
        print(f"VTN listening on port {PORT}", flush=True)  # noqa: T201 - its log
        await stop.wait()
        await self.server.stop()


def main(argv: list[str]) -> None:
    """Run the VTN of the events file, recording into the record file."""
    events = json.loads(Path(argv[0]).read_text())
    asyncio.run(CloudVtn(events, Path(argv[1])).serve())


if __name__ == "__main__":
    main(sys.argv[1:])
