"""openleadr's OpenADR client as the hems VEN runs it (imported only with a VTN).

Every request's outcome goes to the VEN: whether the VTN gave a readable
answer (and why not: no connection, an HTTP error, malformed XML, a foreign or
missing signature), which event answers (``oadrCreatedEvent``) the VTN
acknowledged, and the end of each poll (when the VEN re-sends the answers the
VTN has not acknowledged).  openleadr itself logs and drops such failures.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from http import HTTPStatus
import ssl
from typing import Any

import aiohttp
from openleadr import OpenADRClient
from openleadr.errors import FingerprintMismatch
from openleadr.messaging import (
    create_message,
    parse_message,
    validate_xml_schema,
    validate_xml_signature,
)
from signxml.exceptions import InvalidSignature

from .openadr_answers import Answer, VenHooks
from .openadr_tls import VenCredentials

_X509: str = ".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate"


class VenClient(OpenADRClient):  # type: ignore[misc]
    """openleadr's client reporting every outcome to the VEN."""

    _create_message: Callable[..., str]
    poll_frequency: timedelta | None
    client_session: aiohttp.ClientSession | None

    def __init__(
        self,
        ven: VenHooks,
        *,
        poll: timedelta,
        credentials: VenCredentials,
        tls: ssl.SSLContext | None,
        **kwargs: Any,
    ) -> None:
        """Initialise as openleadr's client; poll at least every ``poll``.

        Messages are signed with the credentials' certificate and key (PEM
        bytes, given to openleadr's message builder instead of file paths);
        ``tls`` is the TLS context of an https VTN.
        """
        super().__init__(**kwargs)
        self._ven = ven
        self._poll_at_least = poll
        self._tls = tls
        self._answers: dict[str, list[Answer]] = {}
        build: Callable[..., str] = partial(
            create_message,
            cert=credentials.cert,
            key=credentials.key,
            disable_signature=not (credentials.cert and credentials.key),
        )

        def create(message_type: str, **payload: Any) -> str:
            message = build(message_type, **payload)
            if message_type == "oadrCreatedEvent":
                answers = [
                    Answer(
                        str(response["event_id"]),
                        str(response["opt_type"]),
                        int(response.get("modification_number") or 0),
                    )
                    for response in payload.get("event_responses") or []
                ]
                for answer in answers:
                    ven.sending(answer)
                self._answers[message] = answers
            return message

        self._create_message = create

    async def create_party_registration(self, *args: Any, **kwargs: Any) -> Any:
        """Register; poll at the VTN's interval unless the setting is shorter."""
        result = await super().create_party_registration(*args, **kwargs)
        requested: timedelta | None = self.poll_frequency
        if requested is not None and requested > self._poll_at_least:
            self.poll_frequency = self._poll_at_least
        return result

    async def _ensure_client_session(self) -> None:
        self._session()

    def _session(self) -> aiohttp.ClientSession:
        """Return the HTTP session (made on first use, with the TLS context)."""
        if self.client_session is None:
            self.client_session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._tls) if self._tls else None,
                headers={"content-type": "application/xml"},
                timeout=aiohttp.ClientTimeout(sock_connect=5, sock_read=10),
            )
        return self.client_session

    async def _poll(self) -> None:
        await super()._poll()
        await self._ven.async_polled()

    async def _perform_request(
        self, service: str, message: str
    ) -> tuple[str | None, dict[str, Any]]:
        answers = self._answers.pop(message, None)
        kind, payload, problem = await self._request(service, message)
        self._ven.answered(problem)
        if answers:
            code = None
            if kind is not None:
                response = payload.get("response") or {}
                code = int(response.get("response_code") or HTTPStatus.OK)
            self._ven.acknowledged(answers, code)
        return kind, payload

    async def _request(
        self, service: str, message: str
    ) -> tuple[str | None, dict[str, Any], str | None]:
        """Post a message; return the answer's type, payload and what went wrong."""
        url = f"{self.vtn_url}/{service}"
        try:
            async with self._session().post(url, data=message) as response:
                content = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            return None, {}, f"no connection to {service} ({type(err).__name__}: {err})"
        if status != HTTPStatus.OK:
            return None, {}, f"HTTP status {status} from {service}"
        if not content:  # the answer to an oadrResponse: nothing to read
            return None, {}, None
        try:
            tree = validate_xml_schema(content)
            if self.vtn_fingerprint:
                if tree.find(_X509) is None:
                    return None, {}, f"an unsigned message from {service}"
                validate_xml_signature(tree, cert_fingerprint=self.vtn_fingerprint)
            kind, payload = parse_message(content)
        except SyntaxError as err:  # lxml's XMLSyntaxError
            return None, {}, f"malformed XML from {service}: {err}"
        except FingerprintMismatch as err:
            return None, {}, f"a message from {service} signed by another VTN: {err}"
        except InvalidSignature as err:
            return None, {}, f"a message from {service} with a bad signature: {err}"
        except Exception as err:  # noqa: BLE001 - whatever the VTN sends
            return None, {}, f"an unreadable message from {service}: {err}"
        return str(kind), payload, None
