"""The OpenADR VEN over https with signed messages, against openleadr's VTN.

A test CA made here issues the VTN's certificate (TLS and signing) and the
VEN's (TLS client certificate and signing); the VTN checks the VEN's
fingerprint, the VEN the VTN's.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from openleadr.messaging import validate_xml_schema
from openleadr.utils import certificate_fingerprint, extract_pem_cert
import pytest

from custom_components.hems.price_data import slot_start

from .openadr_pki import Authority, Identity
from .openadr_vtn import VEN_ID, Vtn, VtnTls, set_up, unreachable, until

BROKEN_CERT = "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----"
BROKEN_KEY = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"


class Pki:
    """The test CA, the VTN's and the VEN's identities."""

    def __init__(self, folder: Path) -> None:
        """Issue the certificates into ``folder``."""
        self.ca = Authority(folder)
        self.vtn = self.ca.issue("vtn", server=True)
        self.ven = self.ca.issue("ven", server=False)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
async def vtn(socket_enabled: None, pki: Pki) -> AsyncIterator[Vtn]:
    server = Vtn(
        VtnTls(
            cert=pki.vtn.cert,
            key=pki.vtn.key,
            ca=pki.ca.path,
            ven_fingerprint=pki.ven.fingerprint,
        )
    )
    start = slot_start(dt_util.utcnow()) + timedelta(hours=2)
    server.server.add_event(
        ven_id=VEN_ID,
        signal_name="simple",
        signal_type="level",
        intervals=[
            {"dtstart": start, "duration": timedelta(minutes=30), "signal_payload": 1.0}
        ],
        callback=server.opted,
        event_id="evt-tls",
    )
    await server.server.run()
    yield server
    await server.server.stop()


def ven_options(vtn: Vtn, ven: Identity, **more: Any) -> dict[str, Any]:
    """Return a VEN's options: its certificate pasted, its key as a file."""
    return {
        "policy": "auto_accept",
        "openadr_vtn_url": vtn.url,
        "openadr_poll_seconds": 1,
        "openadr_cert": ven.cert_pem,
        "openadr_key": str(ven.key),
        **more,
    }


async def test_the_ven_takes_part_over_https_with_signed_messages(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, pki: Pki
) -> None:
    entry = await set_up(
        hass,
        tmp_path,
        ven_options(
            vtn,
            pki.ven,
            openadr_ca=str(pki.ca.path),
            # as a user may type it: lower case
            openadr_vtn_fingerprint=pki.vtn.fingerprint.lower(),
        ),
    )
    await until(lambda: vtn.opts == ["optIn"])
    assert entry.runtime_data.flex.records["openadr:evt-tls"].response == "accepted"
    # Every message the VEN sent is signed with its own certificate.
    signers = {
        certificate_fingerprint(extract_pem_cert(validate_xml_schema(body)))
        for body in vtn.bodies
    }
    assert signers == {pki.ven.fingerprint}
    assert unreachable(hass) is None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_vtn_signing_with_another_certificate_is_refused(
    hass: HomeAssistant,
    tmp_path: Path,
    vtn: Vtn,
    pki: Pki,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = pki.ca.issue("other-vtn", server=True)
    entry = await set_up(
        hass,
        tmp_path,
        ven_options(
            vtn,
            pki.ven,
            openadr_ca=pki.ca.pem,
            openadr_vtn_fingerprint=other.fingerprint,
        ),
    )
    await until(lambda: unreachable(hass) is not None)
    issue = unreachable(hass)
    assert issue is not None
    reason = issue.translation_placeholders["reason"]
    assert reason.startswith("a message from EiRegisterParty signed by another VTN")
    assert f"Expected: {other.fingerprint}; Received: {pki.vtn.fingerprint}" in reason
    assert "signed by another VTN" in caplog.text
    # Nothing of that VTN is taken; hems goes on planning.
    assert vtn.opts == []
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.flex.records == {}
    assert entry.runtime_data.plan.data is not None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
async def vtn_handshakes_fail(hass: HomeAssistant) -> AsyncIterator[None]:
    """Let the VTN's side of a TLS handshake the VEN breaks off fail quietly.

    The VTN runs in the test's event loop, whose exception handler (set up
    by the hass fixture) would fail the test on the VTN's lost connection.
    """
    loop = asyncio.get_running_loop()
    handler = loop.get_exception_handler()

    def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if message.startswith("Error on transport creation for incoming connection"):
            return
        if handler is not None:
            handler(loop, context)

    loop.set_exception_handler(quiet)
    yield
    loop.set_exception_handler(handler)


@pytest.mark.usefixtures("vtn_handshakes_fail")
async def test_a_vtn_certificate_from_another_ca_is_refused(
    hass: HomeAssistant, tmp_path: Path, vtn: Vtn, pki: Pki
) -> None:
    elsewhere = Authority(tmp_path / "elsewhere", name="another CA")
    entry = await set_up(
        hass, tmp_path, ven_options(vtn, pki.ven, openadr_ca=elsewhere.pem)
    )
    await until(lambda: unreachable(hass) is not None)
    issue = unreachable(hass)
    assert issue is not None
    reason = issue.translation_placeholders["reason"]
    assert reason.startswith("no connection to EiRegisterParty")
    assert "certificate verify failed" in reason
    assert vtn.bodies == []
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _flex_options(
    hass: HomeAssistant, entry_id: str, flex: dict[str, Any]
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"flex": flex}
    )
    await hass.async_block_till_done()
    return dict(result)


@pytest.mark.parametrize(
    ("change", "field", "error", "says"),
    [
        (
            {"openadr_cert": "/nowhere/ven.pem"},
            "openadr_cert",
            "openadr_unreadable",
            "/nowhere/ven.pem cannot be read",
        ),
        (
            {"openadr_cert": BROKEN_CERT},
            "openadr_cert",
            "openadr_not_certificate",
            "not a PEM certificate",
        ),
        (
            {"openadr_key": BROKEN_KEY},
            "openadr_key",
            "openadr_not_key",
            "not an unencrypted PEM private key",
        ),
        (
            {"openadr_key": None},
            "openadr_key",
            "openadr_pair",
            "a certificate and its key go together",
        ),
        (
            {"openadr_ca": "not a certificate"},
            "openadr_ca",
            "openadr_unreadable",
            "not a certificate cannot be read",
        ),
        (
            {"openadr_vtn_fingerprint": "12:34"},
            "openadr_vtn_fingerprint",
            "openadr_fingerprint",
            "10 hexadecimal pairs",
        ),
    ],
)
async def test_bad_certificates_are_form_errors(
    hass: HomeAssistant,
    tmp_path: Path,
    pki: Pki,
    change: dict[str, Any],
    field: str,
    error: str,
    says: str,
) -> None:
    entry = await set_up(hass, tmp_path, {})
    good = {
        "openadr_vtn_url": "https://127.0.0.1:1/OpenADR2/Simple/2.0b",
        "openadr_cert": str(pki.ven.cert),
        "openadr_key": pki.ven.key_pem,
        "openadr_ca": str(pki.ca.path),
        "openadr_vtn_fingerprint": pki.vtn.fingerprint,
    }
    flex = {key: value for key, value in {**good, **change}.items() if value}
    result = await _flex_options(hass, entry.entry_id, flex)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    assert says in result["description_placeholders"]["openadr_error"]
    # The settings stay as they were.
    assert entry.options == {"flex": {}}


async def test_the_key_of_another_certificate_is_a_form_error(
    hass: HomeAssistant, tmp_path: Path, pki: Pki
) -> None:
    entry = await set_up(hass, tmp_path, {})
    flex = {"openadr_cert": pki.ven.cert_pem, "openadr_key": pki.vtn.key_pem}
    result = await _flex_options(hass, entry.entry_id, flex)
    assert result["errors"] == {"openadr_key": "openadr_key_mismatch"}


async def test_good_certificates_are_kept_with_the_fingerprint_tidied(
    hass: HomeAssistant, tmp_path: Path, pki: Pki
) -> None:
    entry = await set_up(hass, tmp_path, {})
    flex = {
        "openadr_cert": pki.ven.cert_pem,
        "openadr_key": str(pki.ven.key),
        "openadr_ca": pki.ca.pem,
        "openadr_vtn_fingerprint": pki.vtn.fingerprint.lower(),
    }
    result = await _flex_options(hass, entry.entry_id, flex)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    saved = entry.options["flex"]
    assert saved["openadr_vtn_fingerprint"] == pki.vtn.fingerprint
    assert saved["openadr_cert"] == pki.ven.cert_pem
