"""The sidecar's settings, read from the balena variables in its environment."""

from collections.abc import Mapping
from dataclasses import dataclass, field
import hashlib
import hmac
import json
import re
from urllib.parse import urlsplit

# Limits and defaults of ReplicationCreationRequest in the InfluxDB OSS API.
MIN_QUEUE_SIZE_BYTES = 33_554_430
DEFAULT_QUEUE_SIZE_BYTES = 67_108_860
DEFAULT_MAX_AGE_SECONDS = 604_800

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NODE_ID = re.compile(r"[^A-Za-z0-9_-]")


class SettingsError(ValueError):
    """The variables do not make a usable configuration (names, never values)."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the sidecar needs; secrets are left out of its repr."""

    local_url: str
    local_token: str = field(repr=False)
    org: str
    bucket: str
    cloud_url: str
    cloud_token: str = field(repr=False)
    cloud_org_id: str
    cloud_bucket: str
    cloud_bucket_id: str
    allow_insecure_tls: bool
    max_queue_size_bytes: int
    max_age_seconds: int
    drop_non_retryable_data: bool
    poll_seconds: float
    stall_seconds: float
    mqtt_host: str
    mqtt_port: int
    mqtt_username: str
    mqtt_password: str = field(repr=False)
    node_id: str

    @property
    def enabled(self) -> bool:
        """Return whether replication to the cloud is configured at all."""
        return bool(self.cloud_url)

    def fingerprint(self, part: str) -> str:
        """Return a keyed digest of the desired remote or replication settings.

        InfluxDB never returns a remote's token, nor a replication's maximum
        age, so the sidecar stores this digest in the objects' descriptions to
        see a change. It is an HMAC keyed with the local token, so it tells
        nothing about the cloud token to whoever reads the description.
        """
        if part == "remote":
            payload: dict[str, object] = {
                "url": self.cloud_url,
                "token": self.cloud_token,
                "org": self.cloud_org_id,
                "insecure": self.allow_insecure_tls,
            }
        else:
            payload = {
                "bucket": self.cloud_bucket,
                "bucket_id": self.cloud_bucket_id,
                "queue": self.max_queue_size_bytes,
                "age": self.max_age_seconds,
                "drop": self.drop_non_retryable_data,
                "local": self.bucket,
            }
        message = json.dumps(payload, sort_keys=True).encode()
        digest = hmac.new(self.local_token.encode(), message, hashlib.sha256)
        return digest.hexdigest()[:16]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read the settings; raise SettingsError naming every bad variable."""
        problems: list[str] = []
        reader = _Reader(env, problems)
        settings = cls(
            local_url=reader.text("HEMS_LOCAL_INFLUXDB_URL", "http://influxdb:8086"),
            local_token=reader.text("INFLUXDB_ADMIN_TOKEN"),
            org=reader.text("INFLUXDB_ORG", "hems"),
            bucket=reader.text("INFLUXDB_BUCKET", "home_assistant"),
            cloud_url=reader.text("INFLUXDB_CLOUD_URL").rstrip("/"),
            cloud_token=reader.text("INFLUXDB_CLOUD_TOKEN"),
            cloud_org_id=reader.text("INFLUXDB_CLOUD_ORG_ID"),
            cloud_bucket=reader.text("INFLUXDB_CLOUD_BUCKET", "home_assistant"),
            cloud_bucket_id=reader.text("INFLUXDB_CLOUD_BUCKET_ID"),
            allow_insecure_tls=reader.flag("REPLICATION_ALLOW_INSECURE_TLS"),
            max_queue_size_bytes=reader.integer(
                "REPLICATION_MAX_QUEUE_BYTES",
                DEFAULT_QUEUE_SIZE_BYTES,
                minimum=MIN_QUEUE_SIZE_BYTES,
            ),
            max_age_seconds=reader.integer(
                "REPLICATION_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS, minimum=0
            ),
            drop_non_retryable_data=reader.flag("REPLICATION_DROP_NON_RETRYABLE"),
            poll_seconds=reader.integer("REPLICATION_POLL_SECONDS", 60, minimum=1),
            stall_seconds=reader.integer("REPLICATION_STALL_SECONDS", 900, minimum=1),
            mqtt_host=reader.text("HEMS_MQTT_HOST", "mosquitto"),
            mqtt_port=reader.integer("HEMS_MQTT_PORT", 1883, minimum=1),
            mqtt_username=reader.text("MQTT_USERNAME", "hems"),
            mqtt_password=reader.text("MQTT_PASSWORD"),
            node_id=node_id(reader.text("BALENA_DEVICE_UUID")),
        )
        if settings.enabled:
            if not _is_http_url(settings.cloud_url):
                problems.append("INFLUXDB_CLOUD_URL must be an http(s) URL")
            if not settings.cloud_token:
                problems.append("INFLUXDB_CLOUD_TOKEN is required for replication")
            if not settings.local_token:
                problems.append("INFLUXDB_ADMIN_TOKEN is required for replication")
            if not (settings.cloud_bucket or settings.cloud_bucket_id):
                problems.append("INFLUXDB_CLOUD_BUCKET or INFLUXDB_CLOUD_BUCKET_ID")
        if not settings.mqtt_password:
            problems.append("MQTT_PASSWORD is required to report to Home Assistant")
        if problems:
            raise SettingsError("; ".join(problems))
        return settings


def node_id(device_uuid: str) -> str:
    """Return the MQTT discovery node ID of this device."""
    short = _NODE_ID.sub("", device_uuid)[:7]
    return f"hems_{short}" if short else "hems_fleet_box"


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


class _Reader:
    """Reads typed variables, collecting a message per bad one."""

    def __init__(self, env: Mapping[str, str], problems: list[str]) -> None:
        self._env = env
        self._problems = problems

    def text(self, name: str, default: str = "") -> str:
        return (self._env.get(name) or default).strip()

    def flag(self, name: str) -> bool:
        value = self.text(name, "false").lower()
        if value not in _TRUE | _FALSE:
            self._problems.append(f"{name} must be true or false")
        return value in _TRUE

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            self._problems.append(f"{name} must be a whole number")
            return default
        if value < minimum:
            self._problems.append(f"{name} must be at least {minimum}")
        return value
