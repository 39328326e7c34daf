"""The local InfluxDB's remotes and replications API, through influxdb-client.

influxdb-client's generated ``RemoteConnectionsService`` and
``ReplicationsService`` speak ``/api/v2/remotes`` and ``/api/v2/replications``
as the InfluxDB OSS OpenAPI contract defines them; this layer turns their
exceptions into two kinds: the server answered with an error (``ApiError``,
with InfluxDB's ``code`` and ``message``), or it could not be reached
(``UnreachableError``). Neither carries a token.
"""

from collections.abc import Callable
import json
from typing import Any

from influxdb_client import InfluxDBClient
from influxdb_client.domain.remote_connection import RemoteConnection
from influxdb_client.domain.remote_connection_creation_request import (
    RemoteConnectionCreationRequest,
)
from influxdb_client.domain.remote_connection_update_request import (
    RemoteConnectionUpdateRequest,
)
from influxdb_client.domain.replication import Replication
from influxdb_client.domain.replication_creation_request import (
    ReplicationCreationRequest,
)
from influxdb_client.domain.replication_update_request import (
    ReplicationUpdateRequest,
)
from influxdb_client.rest import ApiException
from influxdb_client.service.buckets_service import BucketsService
from influxdb_client.service.organizations_service import OrganizationsService
from influxdb_client.service.remote_connections_service import (
    RemoteConnectionsService,
)
from influxdb_client.service.replications_service import ReplicationsService
import urllib3.exceptions

HTTP_NOT_FOUND = 404


class InfluxError(Exception):
    """A call to the local InfluxDB failed."""


class UnreachableError(InfluxError):
    """The local InfluxDB did not answer."""


class ApiError(InfluxError):
    """The local InfluxDB answered with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep InfluxDB's HTTP status, error code and message."""
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class NotFoundError(ApiError):
    """The object asked for does not exist (HTTP 404)."""


def _call[T](call: Callable[[], T]) -> T:
    """Run one API call, translating the client's exceptions."""
    try:
        return call()
    except ApiException as err:
        status = int(err.status or 0)
        code, message = "", str(err.reason or "")
        try:
            body = json.loads(err.body or b"{}")
        except TypeError, ValueError:
            body = {}
        if isinstance(body, dict):
            code = str(body.get("code", code))
            message = str(body.get("message", message))
        kind = NotFoundError if status == HTTP_NOT_FOUND else ApiError
        raise kind(status, code, message) from None
    except (urllib3.exceptions.HTTPError, OSError) as err:
        raise UnreachableError(f"{type(err).__name__}: {err}"[:200]) from None
    except ValueError as err:
        # The generated models reject a response that lacks a required field.
        raise ApiError(0, "invalid response", str(err)) from None


class InfluxApi:
    """The calls the sidecar makes to the local InfluxDB."""

    def __init__(self, url: str, token: str, timeout_ms: int = 10_000) -> None:
        """Connect (lazily) to the InfluxDB at ``url`` with an operator token."""
        self._client = InfluxDBClient(url=url, token=token, timeout=timeout_ms)
        api = self._client.api_client
        self._orgs = OrganizationsService(api)
        self._buckets = BucketsService(api)
        self._remotes = RemoteConnectionsService(api)
        self._replications = ReplicationsService(api)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def org_id(self, name: str) -> str:
        """Return the ID of the organization called ``name``."""
        orgs = _call(lambda: self._orgs.get_orgs(org=name)).orgs or []
        for org in orgs:
            if org.name == name:
                return str(org.id)
        raise NotFoundError(HTTP_NOT_FOUND, "not found", f"organization {name!r}")

    def bucket_id(self, org_id: str, name: str) -> str:
        """Return the ID of the bucket called ``name`` in the organization."""
        buckets = _call(lambda: self._buckets.get_buckets(org_id=org_id, name=name))
        for bucket in buckets.buckets or []:
            if bucket.name == name:
                return str(bucket.id)
        raise NotFoundError(HTTP_NOT_FOUND, "not found", f"bucket {name!r}")

    def remotes(self, org_id: str, name: str) -> list[RemoteConnection]:
        """Return the organization's remote connections called ``name``."""
        found = _call(lambda: self._remotes.get_remote_connections(org_id, name=name))
        return [remote for remote in found.remotes or [] if remote.name == name]

    def create_remote(self, body: dict[str, Any]) -> RemoteConnection:
        """Register a remote connection (``RemoteConnectionCreationRequest``)."""
        request = RemoteConnectionCreationRequest(**body)
        return _call(lambda: self._remotes.post_remote_connection(request))

    def update_remote(self, remote_id: str, body: dict[str, Any]) -> RemoteConnection:
        """Update a remote connection (``RemoteConnectionUpdateRequest``)."""
        request = RemoteConnectionUpdateRequest(**body)
        return _call(
            lambda: self._remotes.patch_remote_connection_by_id(remote_id, request)
        )

    def replications(self, org_id: str, name: str) -> list[Replication]:
        """Return the organization's replications called ``name``."""
        found = _call(lambda: self._replications.get_replications(org_id, name=name))
        return [rep for rep in found.replications or [] if rep.name == name]

    def replication(self, replication_id: str) -> Replication:
        """Return one replication, with its queue and latest response."""
        return _call(lambda: self._replications.get_replication_by_id(replication_id))

    def create_replication(self, body: dict[str, Any]) -> Replication:
        """Register a replication stream (``ReplicationCreationRequest``)."""
        request = ReplicationCreationRequest(**body)
        return _call(lambda: self._replications.post_replication(request))

    def update_replication(
        self, replication_id: str, body: dict[str, Any]
    ) -> Replication:
        """Update a replication stream (``ReplicationUpdateRequest``)."""
        request = ReplicationUpdateRequest(**body)
        return _call(
            lambda: self._replications.patch_replication_by_id(replication_id, request)
        )

    def delete_replication(self, replication_id: str) -> None:
        """Delete a replication stream (its local queue goes with it)."""
        _call(lambda: self._replications.delete_replication_by_id(replication_id))
