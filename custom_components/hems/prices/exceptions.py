"""Exceptions raised by the hems price sources.

Every error the package raises on purpose derives from `PriceSourceError`, so a
caller can catch one type; the subclasses say what went wrong and whether
retrying later can help (`OctopusConnectionError` and its subclass
`OctopusRateLimitError`).
"""

from __future__ import annotations


class PriceSourceError(Exception):
    """Base class of every error raised by the price sources."""


class OctopusError(PriceSourceError):
    """The Octopus Energy API could not answer the request (e.g. HTTP 400)."""


class OctopusConnectionError(OctopusError):
    """A transient failure: timeout, connection error or HTTP 5xx; retry later."""


class OctopusRateLimitError(OctopusConnectionError):
    """The API answered HTTP 429 Too Many Requests.

    `retry_after` is the delay in seconds the server asked for (from the
    Retry-After header, at most `octopus.MAX_RETRY_AFTER`), or None when it did
    not say or said it unreadably.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Store the message and the requested delay."""
        super().__init__(message)
        self.retry_after = retry_after


class OctopusAuthenticationError(OctopusError):
    """No API key, or the API rejected it (HTTP 401/403)."""


class OctopusNotFoundError(OctopusError):
    """The product, tariff or account does not exist (HTTP 404)."""


class OctopusResponseError(OctopusError):
    """The API answered with something other than the expected JSON shape."""


class PriceFileError(PriceSourceError):
    """A price history file is missing or malformed; the message names file and line."""


class InvalidPriceRecord(PriceSourceError, ValueError):  # noqa: N818 (API name)
    """One price record is unusable; the message names the field and the value."""
