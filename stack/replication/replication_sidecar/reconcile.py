"""Bring the local InfluxDB's remote and replication in line with the settings.

Idempotent: a second run with the same settings changes nothing; changed
settings are PATCHed onto the existing objects. Only a new local bucket, or a
switch between naming the cloud bucket and giving its ID, needs the
replication deleted and created again (the API cannot change those).
"""

from dataclasses import dataclass, field
from typing import Any

from influxdb_client.domain.remote_connection import RemoteConnection
from influxdb_client.domain.replication import Replication

from .influx import InfluxApi
from .settings import Settings

REMOTE_NAME = "hems-cloud"
REPLICATION_NAME = "hems-cloud"


@dataclass
class Outcome:
    """What a reconciliation found and did."""

    remote_id: str = ""
    replication_id: str = ""
    actions: list[str] = field(default_factory=list)


def _description(settings: Settings, part: str) -> str:
    digest = settings.fingerprint(part)
    return f"Managed by the hems replication sidecar (settings {digest})"


def remote_body(settings: Settings) -> dict[str, Any]:
    """Return the desired remote connection, as update-request fields."""
    body: dict[str, Any] = {
        "name": REMOTE_NAME,
        "description": _description(settings, "remote"),
        "remote_url": settings.cloud_url,
        "remote_api_token": settings.cloud_token,
        "allow_insecure_tls": settings.allow_insecure_tls,
    }
    if settings.cloud_org_id:
        body["remote_org_id"] = settings.cloud_org_id
    return body


def replication_body(settings: Settings, remote_id: str) -> dict[str, Any]:
    """Return the desired replication, as update-request fields."""
    body: dict[str, Any] = {
        "name": REPLICATION_NAME,
        "description": _description(settings, "replication"),
        "remote_id": remote_id,
        "max_queue_size_bytes": settings.max_queue_size_bytes,
        "max_age_seconds": settings.max_age_seconds,
        "drop_non_retryable_data": settings.drop_non_retryable_data,
    }
    if settings.cloud_bucket_id:
        body["remote_bucket_id"] = settings.cloud_bucket_id
    else:
        body["remote_bucket_name"] = settings.cloud_bucket
    return body


def _remote_differs(remote: RemoteConnection, desired: dict[str, Any]) -> bool:
    return (
        remote.remote_url != desired["remote_url"]
        or bool(remote.allow_insecure_tls) != desired["allow_insecure_tls"]
        or remote.description != desired["description"]
        or (
            "remote_org_id" in desired
            and remote.remote_org_id != desired["remote_org_id"]
        )
    )


def _must_recreate(rep: Replication, desired: dict[str, Any], bucket_id: str) -> bool:
    by_id = "remote_bucket_id" in desired
    return rep.local_bucket_id != bucket_id or (by_id != bool(rep.remote_bucket_id))


def _replication_differs(rep: Replication, desired: dict[str, Any]) -> bool:
    return (
        rep.remote_id != desired["remote_id"]
        or rep.remote_bucket_id != desired.get("remote_bucket_id", rep.remote_bucket_id)
        or rep.remote_bucket_name
        != desired.get("remote_bucket_name", rep.remote_bucket_name)
        or rep.max_queue_size_bytes != desired["max_queue_size_bytes"]
        or bool(rep.drop_non_retryable_data) != desired["drop_non_retryable_data"]
        or rep.description != desired["description"]
    )


def reconcile(api: InfluxApi, settings: Settings) -> Outcome:
    """Create or update the remote and the replication of the local bucket."""
    outcome = Outcome()
    org_id = api.org_id(settings.org)
    bucket_id = api.bucket_id(org_id, settings.bucket)

    desired_remote = remote_body(settings)
    remotes = api.remotes(org_id, REMOTE_NAME)
    if not remotes:
        remote = api.create_remote({**desired_remote, "org_id": org_id})
        outcome.actions.append("created remote")
    else:
        remote = remotes[0]
        if len(remotes) > 1:
            outcome.actions.append(
                f"{len(remotes)} remotes named {REMOTE_NAME}: using the first"
            )
        if _remote_differs(remote, desired_remote):
            remote = api.update_remote(str(remote.id), desired_remote)
            outcome.actions.append("updated remote")
    outcome.remote_id = str(remote.id)

    desired = replication_body(settings, outcome.remote_id)
    create = {**desired, "org_id": org_id, "local_bucket_id": bucket_id}
    replications = api.replications(org_id, REPLICATION_NAME)
    if not replications:
        rep = api.create_replication(create)
        outcome.actions.append("created replication")
    else:
        rep = replications[0]
        if _must_recreate(rep, desired, bucket_id):
            api.delete_replication(str(rep.id))
            rep = api.create_replication(create)
            outcome.actions.append("replaced replication")
        elif _replication_differs(rep, desired):
            rep = api.update_replication(str(rep.id), desired)
            outcome.actions.append("updated replication")
    outcome.replication_id = str(rep.id)
    return outcome
