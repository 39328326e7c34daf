"""The OpenADR VEN's certificates: read, checked, and made a TLS context.

A certificate, key or CA setting holds either PEM text or the path of a PEM
file.  Reading files and building the context block: run them in an executor.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import os
from pathlib import Path
import re
import ssl
import tempfile
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .flex_settings import FlexSettings

_FINGERPRINT: Final = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){9}$")


class PemError(ValueError):
    """A setting that cannot be used; ``reason`` says why, ``field`` which."""

    def __init__(self, field: str, code: str, reason: str) -> None:
        """Say which setting, the form error's key and why."""
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VenCredentials:
    """What the VEN signs and connects with (PEM bytes)."""

    cert: bytes | None = None
    key: bytes | None = None
    ca: bytes | None = None


def _read(field: str, value: str) -> bytes:
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    try:
        return Path(text).expanduser().read_bytes()
    except OSError as err:
        raise PemError(
            field, "openadr_unreadable", f"{text} cannot be read ({err.strerror})"
        ) from err


def _certificates(field: str, data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as err:
        raise PemError(
            field, "openadr_not_certificate", "not a PEM certificate"
        ) from err


def read_credentials(settings: FlexSettings, fields: dict[str, str]) -> VenCredentials:
    """Read and check the settings' certificate, key and CA (blocking I/O).

    ``fields`` names the setting of each (``cert``, ``key``, ``ca``) for errors.
    """
    if bool(settings.cert) != bool(settings.key):
        field = fields["key"] if settings.cert else fields["cert"]
        raise PemError(field, "openadr_pair", "a certificate and its key go together")
    cert = key = ca = None
    if settings.cert and settings.key:
        cert = _read(fields["cert"], settings.cert)
        certificate = _certificates(fields["cert"], cert)[0]
        key = _read(fields["key"], settings.key)
        try:
            private = serialization.load_pem_private_key(key, password=None)
        except (ValueError, TypeError) as err:
            raise PemError(
                fields["key"],
                "openadr_not_key",
                "not an unencrypted PEM private key",
            ) from err
        public = serialization.PublicFormat.SubjectPublicKeyInfo
        encoding = serialization.Encoding.PEM
        if private.public_key().public_bytes(encoding, public) != (
            certificate.public_key().public_bytes(encoding, public)
        ):
            raise PemError(
                fields["key"], "openadr_key_mismatch", "not the certificate's key"
            )
    if settings.ca:
        ca = _read(fields["ca"], settings.ca)
        _certificates(fields["ca"], ca)
    return VenCredentials(cert=cert, key=key, ca=ca)


def check_fingerprint(field: str, value: str | None) -> str | None:
    """Return the VTN fingerprint setting tidied (upper case); PemError if bad."""
    if value is None:
        return None
    tidy = value.strip().upper().replace("-", ":")
    if not _FINGERPRINT.match(tidy):
        raise PemError(
            field,
            "openadr_fingerprint",
            "expected 10 hexadecimal pairs such as 7A:2B:...:E1",
        )
    return tidy


@contextmanager
def _files(*parts: bytes) -> Iterator[list[str]]:
    """Write PEM bytes to private temporary files (ssl loads only files)."""
    with tempfile.TemporaryDirectory(prefix="hems-openadr-") as folder:
        paths = []
        for index, data in enumerate(parts):
            path = os.path.join(folder, f"{index}.pem")  # noqa: PTH118
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            paths.append(path)
        yield paths


def client_context(credentials: VenCredentials) -> ssl.SSLContext:
    """Return the TLS context of an https VTN (blocking: loads certificates).

    The VTN's certificate is checked against the CA of the settings (the
    system's without one); the VEN's certificate is the client certificate.
    """
    context = ssl.create_default_context(
        cadata=credentials.ca.decode() if credentials.ca else None
    )
    if credentials.cert and credentials.key:
        with _files(credentials.cert, credentials.key) as (cert, key):
            context.load_cert_chain(cert, key)
    return context
