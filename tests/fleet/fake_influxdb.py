"""An HTTP server with the InfluxDB OSS v2 endpoints the replication sidecar uses.

Requests are checked against the request schemas of the InfluxDB OSS OpenAPI
contract (influxdata/openapi ``contracts/oss.yml``, the version
influxdb-client 1.50 is generated from): ``RemoteConnectionCreationRequest``,
``RemoteConnectionUpdateRequest``, ``ReplicationCreationRequest`` and
``ReplicationUpdateRequest`` with their required fields, types and minimums.
Responses have the shapes of ``RemoteConnection(s)``, ``Replication(s)``,
``Organizations`` and ``Buckets``, errors InfluxDB's ``{"code", "message"}``
with its statuses: 400 invalid, 401 unauthorized, 404 not found, 422
unprocessable entity. State is kept, so a second run sees what the first one
made. One stricter rule than InfluxDB: unknown request fields are refused,
so a misspelt field fails the tests instead of being ignored.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import itertools
import json
import os
import signal
import sys
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

_STRING = {"type": "string"}
_BOOL = {"type": "boolean"}
_URI = {"type": "string", "pattern": "^https?://"}
_QUEUE = {"type": "integer", "minimum": 33554430}
_AGE = {"type": "integer", "minimum": 0}

SCHEMAS: dict[str, dict[str, Any]] = {
    "RemoteConnectionCreationRequest": {
        "type": "object",
        "properties": {
            "name": _STRING,
            "description": _STRING,
            "orgID": _STRING,
            "remoteURL": _URI,
            "remoteAPIToken": _STRING,
            "remoteOrgID": _STRING,
            "allowInsecureTLS": _BOOL,
        },
        "required": [
            "name",
            "orgID",
            "remoteURL",
            "remoteAPIToken",
            "allowInsecureTLS",
        ],
        "additionalProperties": False,
    },
    "RemoteConnectionUpdateRequest": {
        "type": "object",
        "properties": {
            "name": _STRING,
            "description": _STRING,
            "remoteURL": _URI,
            "remoteAPIToken": _STRING,
            "remoteOrgID": _STRING,
            "allowInsecureTLS": _BOOL,
        },
        "additionalProperties": False,
    },
    "ReplicationCreationRequest": {
        "type": "object",
        "properties": {
            "name": _STRING,
            "description": _STRING,
            "orgID": _STRING,
            "remoteID": _STRING,
            "localBucketID": _STRING,
            "remoteBucketID": _STRING,
            "remoteBucketName": _STRING,
            "maxQueueSizeBytes": _QUEUE,
            "dropNonRetryableData": _BOOL,
            "maxAgeSeconds": _AGE,
        },
        "required": [
            "name",
            "orgID",
            "remoteID",
            "localBucketID",
            "maxQueueSizeBytes",
            "maxAgeSeconds",
        ],
        "additionalProperties": False,
    },
    "ReplicationUpdateRequest": {
        "type": "object",
        "properties": {
            "name": _STRING,
            "description": _STRING,
            "remoteID": _STRING,
            "remoteBucketID": _STRING,
            "remoteBucketName": _STRING,
            "maxQueueSizeBytes": _QUEUE,
            "dropNonRetryableData": _BOOL,
            "maxAgeSeconds": _AGE,
        },
        "additionalProperties": False,
    },
}


class ApiFailureError(Exception):
    """An error response: HTTP status, InfluxDB error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep what the response carries."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _invalid(message: str) -> ApiFailureError:
    return ApiFailureError(HTTPStatus.BAD_REQUEST, "invalid", message)


def _not_found(message: str) -> ApiFailureError:
    return ApiFailureError(HTTPStatus.NOT_FOUND, "not found", message)


def validate(schema: str, body: Any) -> None:
    """Raise a 400 failure unless ``body`` matches the named request schema."""
    validator = jsonschema.Draft202012Validator(SCHEMAS[schema])
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "body"
        raise _invalid(f"{schema}: {where}: {errors[0].message}")


@dataclass
class Request:
    """One request the server handled (remote tokens masked)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class State:
    """Everything the fake InfluxDB holds."""

    token: str
    orgs: dict[str, str] = field(default_factory=dict)  # id -> name
    buckets: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> org, name
    remotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    remote_tokens: dict[str, str] = field(default_factory=dict)
    replications: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_ages: dict[str, int] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    failures: list[tuple[str, str, ApiFailureError]] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(0x0A01))

    def new_id(self) -> str:
        """Return a fresh 16-hex-digit ID, like InfluxDB's."""
        return f"{next(self.ids):016x}"

    def writes(self) -> list[Request]:
        """Return the requests that changed something."""
        return [r for r in self.requests if r.method in {"POST", "PATCH", "DELETE"}]


class FakeInfluxDB:
    """The fake server and its state."""

    def __init__(self, token: str, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        """Bind ``address`` (default a free loopback port); accept ``token`` only."""
        self.state = State(token=token)
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(address, handler)
        self._server.daemon_threads = False
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_org(self, name: str) -> str:
        """Create an organization; return its ID."""
        org_id = self.state.new_id()
        self.state.orgs[org_id] = name
        return org_id

    def add_bucket(self, org_id: str, name: str) -> str:
        """Create a bucket in an organization; return its ID."""
        bucket_id = self.state.new_id()
        self.state.buckets[bucket_id] = (org_id, name)
        return bucket_id

    def set_health(self, replication_id: str, **fields: Any) -> None:
        """Set what the replication reports (queue, backlog, latest answer)."""
        with self.lock:
            self.state.replications[replication_id].update(fields)

    def fail_next(self, method: str, path: str, failure: ApiFailureError) -> None:
        """Answer the next ``method`` request whose path starts with ``path``."""
        self.state.failures.append((method, path, failure))

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- the API -------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        """Route one authenticated request; return (status, JSON body)."""
        for index, (f_method, f_path, failure) in enumerate(self.state.failures):
            if f_method == method and path.startswith(f_path):
                del self.state.failures[index]
                raise failure
        parts = path.strip("/").split("/")
        if parts[:2] != ["api", "v2"] or len(parts) < 3:
            raise _not_found("path not found")
        resource, item = parts[2], parts[3] if len(parts) > 3 else None
        route = getattr(self, f"_{method.lower()}_{resource}", None)
        if route is None or len(parts) > 4:
            raise ApiFailureError(
                HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed", path
            )
        return route(item, query, body)

    def _get_orgs(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        name = query.get("org")
        orgs = [
            {"id": org_id, "name": org_name, "status": "active"}
            for org_id, org_name in self.state.orgs.items()
            if name is None or org_name == name
        ]
        if name is not None and not orgs:
            raise _not_found(f'organization name "{name}" not found')
        return HTTPStatus.OK, {"links": {"self": "/api/v2/orgs"}, "orgs": orgs}

    def _get_buckets(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        org_id, name = query.get("orgID"), query.get("name")
        buckets = [
            {
                "id": bucket_id,
                "orgID": owner,
                "type": "user",
                "name": bucket_name,
                "retentionRules": [{"type": "expire", "everySeconds": 0}],
            }
            for bucket_id, (owner, bucket_name) in self.state.buckets.items()
            if (org_id is None or owner == org_id)
            and (name is None or bucket_name == name)
        ]
        return HTTPStatus.OK, {"links": {"self": "/api/v2/buckets"}, "buckets": buckets}

    def _require_org(self, query: dict[str, str]) -> str:
        org_id = query.get("orgID")
        if not org_id:
            raise _invalid("orgID is required")
        return org_id

    def _get_remotes(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if item is not None:
            if item not in self.state.remotes:
                raise _not_found("remote not found")
            return HTTPStatus.OK, self.state.remotes[item]
        org_id = self._require_org(query)
        remotes = [
            remote
            for remote in self.state.remotes.values()
            if remote["orgID"] == org_id
            and query.get("name", remote["name"]) == remote["name"]
            and query.get("remoteURL", remote["remoteURL"]) == remote["remoteURL"]
        ]
        return HTTPStatus.OK, {"remotes": remotes}

    def _post_remotes(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        validate("RemoteConnectionCreationRequest", body)
        if body["orgID"] not in self.state.orgs:
            raise _not_found("organization not found")
        remote_id = self.state.new_id()
        remote = {key: value for key, value in body.items() if key != "remoteAPIToken"}
        remote["id"] = remote_id
        self.state.remotes[remote_id] = remote
        self.state.remote_tokens[remote_id] = body["remoteAPIToken"]
        return HTTPStatus.CREATED, remote

    def _patch_remotes(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        validate("RemoteConnectionUpdateRequest", body)
        if item not in self.state.remotes:
            raise _not_found("remote not found")
        remote = self.state.remotes[item]
        for key, value in body.items():
            if key == "remoteAPIToken":
                self.state.remote_tokens[item] = value
            else:
                remote[key] = value
        return HTTPStatus.OK, remote

    def _get_replications(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if item is not None:
            if item not in self.state.replications:
                raise _not_found("replication not found")
            return HTTPStatus.OK, self.state.replications[item]
        org_id = self._require_org(query)
        found = [
            rep
            for rep in self.state.replications.values()
            if rep["orgID"] == org_id
            and all(
                query.get(key, rep[key]) == rep[key]
                for key in ("name", "remoteID", "localBucketID")
            )
        ]
        return HTTPStatus.OK, {"replications": found}

    def _check_bucket_reference(self, body: dict[str, Any]) -> None:
        if ("remoteBucketID" in body) == ("remoteBucketName" in body):
            raise ApiFailureError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "unprocessable entity",
                "exactly one of remoteBucketID or remoteBucketName is required",
            )

    def _post_replications(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        validate("ReplicationCreationRequest", body)
        self._check_bucket_reference(body)
        if body["remoteID"] not in self.state.remotes:
            raise _not_found("remote not found")
        if body["localBucketID"] not in self.state.buckets:
            raise _not_found("bucket not found")
        rep_id = self.state.new_id()
        rep = {key: value for key, value in body.items() if key != "maxAgeSeconds"}
        rep.setdefault("dropNonRetryableData", False)
        rep.update(
            id=rep_id,
            currentQueueSizeBytes=0,
            remainingBytesToBeSynced=0,
        )
        self.state.replications[rep_id] = rep
        self.state.max_ages[rep_id] = body["maxAgeSeconds"]
        return HTTPStatus.CREATED, rep

    def _patch_replications(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        validate("ReplicationUpdateRequest", body)
        if item not in self.state.replications:
            raise _not_found("replication not found")
        if "remoteBucketID" in body and "remoteBucketName" in body:
            self._check_bucket_reference(body)
        if "remoteID" in body and body["remoteID"] not in self.state.remotes:
            raise _not_found("remote not found")
        rep = self.state.replications[item]
        for key, value in body.items():
            if key == "maxAgeSeconds":
                self.state.max_ages[item] = value
            else:
                rep[key] = value
        return HTTPStatus.OK, rep

    def _delete_replications(
        self, item: str | None, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if item not in self.state.replications:
            raise _not_found("replication not found")
        del self.state.replications[item]
        return HTTPStatus.NO_CONTENT, None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeInfluxDB
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep the test output quiet."""

    def _authorize(self) -> None:
        if self.headers.get("Authorization") != f"Token {self.fake.state.token}":
            raise ApiFailureError(
                HTTPStatus.UNAUTHORIZED, "unauthorized", "unauthorized access"
            )

    def _serve(self) -> None:
        split = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status: int
        body: Any = None
        try:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                raise _invalid("request body is not JSON") from None
            self._authorize()
            with self.fake.lock:
                status, payload = self.fake.handle(
                    self.command, split.path, query, body
                )
        except ApiFailureError as failure:
            status, payload = (
                failure.status,
                {"code": failure.code, "message": failure.message},
            )
        if isinstance(body, dict) and "remoteAPIToken" in body:
            body = {**body, "remoteAPIToken": "<token>"}
        with self.fake.lock:
            self.fake.state.requests.append(
                Request(self.command, split.path, query, body, int(status))
            )
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815


@contextmanager
def running(token: str) -> Iterator[FakeInfluxDB]:
    """Run a fake InfluxDB on a free loopback port for the ``with`` block."""
    fake = FakeInfluxDB(token)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def main() -> None:
    """Serve on port 8086 as InfluxDB's first boot would set it up, until SIGTERM.

    Run by the stack's InfluxDB entrypoint in place of the image's own one
    (``HEMS_INFLUXDB_UPSTREAM_ENTRYPOINT``): org, bucket and token come from
    the ``DOCKER_INFLUXDB_INIT_*`` variables the entrypoint maps.
    """
    if os.environ.get("DOCKER_INFLUXDB_INIT_MODE") != "setup":
        sys.exit("fake InfluxDB: only a first boot (DOCKER_INFLUXDB_INIT_MODE=setup)")
    fake = FakeInfluxDB(
        os.environ["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"],
        ("0.0.0.0", 8086),  # noqa: S104 - the influxdb namespace's own address
    )
    org_id = fake.add_org(os.environ["DOCKER_INFLUXDB_INIT_ORG"])
    fake.add_bucket(org_id, os.environ["DOCKER_INFLUXDB_INIT_BUCKET"])
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    fake.start()
    print("fake InfluxDB listening on port 8086", flush=True)  # noqa: T201
    stopped.wait()
    fake.stop()


if __name__ == "__main__":
    main()
