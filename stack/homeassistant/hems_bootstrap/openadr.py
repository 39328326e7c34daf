"""hems' OpenADR VEN and flex policy from the balena variables.

With ``HEMS_OPENADR_VTN_URL`` set, every hems config entry gets the VEN
settings in its options' ``flex`` section, the stored form hems' options flow
writes (``custom_components/hems/flex_settings.py``); a certificate and key
given as PEM text are written to private files under /config and their paths
stored. ``HEMS_FLEX_POLICY`` (auto, ask, decline) sets what hems does with a
new event; empty leaves the household's choice. With the URL emptied again,
the VEN settings of the entries the fleet set are removed (the VEN stops).

A value that cannot be used leaves the settings as they were and is reported
as one ``VARIABLE: reason`` line; secrets never appear in what is reported.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import math
from pathlib import Path
import re
from typing import Any
from urllib.parse import urlsplit

DOMAIN = "hems"
SECTION = "flex"
# The keys of hems' flex section (flex_settings.py) the fleet manages.
VTN_URL = "openadr_vtn_url"
VEN_NAME = "openadr_ven_name"
VEN_ID = "openadr_ven_id"
CERT = "openadr_cert"
KEY = "openadr_key"
FINGERPRINT = "openadr_vtn_fingerprint"
POLL = "openadr_poll_seconds"
POLICY = "policy"
VEN_KEYS = (VTN_URL, VEN_NAME, VEN_ID, CERT, KEY, FINGERPRINT, POLL)
POLICIES = {
    "auto": "auto_accept",
    "auto_accept": "auto_accept",
    "ask": "ask",
    "decline": "decline",
}
# Where the PEM variables are written, relative to /config.
PEM_DIR = Path(".hems_openadr")
NO_ENTRY = (
    "hems: no hems config entry yet: the OpenADR and flex settings apply at the "
    "first start after hems is added"
)
_FINGERPRINT = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+")


@dataclass(frozen=True, kw_only=True)
class FlexWanted:
    """What the variables ask of every hems entry's flex section."""

    ven: dict[str, Any] | None  # the VEN keys; None: the VEN is off
    policy: str | None  # None: the household's choice
    pem: dict[str, str]  # file name -> PEM text to write


def _env(env: Mapping[str, str], name: str) -> str:
    """Return a variable's value stripped, treating an empty one as unset."""
    return (env.get(name) or "").strip()


def _pem(name: str, text: str, kind: str, problems: list[str]) -> str:
    r"""Return a PEM variable's text (a literal \n made a newline), or ""."""
    if not text:
        return ""
    if "\n" not in text:
        text = text.replace("\\n", "\n")
    begin = re.search(r"-----BEGIN ([A-Z ]+)-----", text)
    if begin is None or kind not in begin.group(1) or "-----END " not in text:
        problems.append(f"{name}: not a PEM {kind.lower()}")
        return ""
    return text.strip() + "\n"


def _poll(text: str, problems: list[str]) -> dict[str, float]:
    """Return the poll setting of HEMS_OPENADR_POLL_SECONDS (empty: none)."""
    if not text:
        return {}
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 1:
        problems.append("HEMS_OPENADR_POLL_SECONDS: not a number of seconds >= 1")
        return {}
    return {POLL: int(seconds) if seconds.is_integer() else seconds}


def _ven(
    env: Mapping[str, str], url: str, problems: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the VEN keys for the VTN at ``url``, and the PEM files to write."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        problems.append("HEMS_OPENADR_VTN_URL: not an http(s) URL")
    name = _env(env, "HEMS_OPENADR_VEN_NAME")
    if not name:
        device = _env(env, "BALENA_DEVICE_UUID")[:7]
        name = f"hems-{device}" if device else "hems"
    ven: dict[str, Any] = {VTN_URL: url, VEN_NAME: name}
    if ven_id := _env(env, "HEMS_OPENADR_VEN_ID"):
        ven[VEN_ID] = ven_id
    ven |= _poll(_env(env, "HEMS_OPENADR_POLL_SECONDS"), problems)
    if fingerprint := _env(env, "HEMS_OPENADR_VTN_FINGERPRINT"):
        if _FINGERPRINT.fullmatch(fingerprint) is None:
            problems.append("HEMS_OPENADR_VTN_FINGERPRINT: not hex pairs joined by ':'")
        ven[FINGERPRINT] = fingerprint.upper()
    found = len(problems)
    cert = _pem(
        "HEMS_OPENADR_CERT", _env(env, "HEMS_OPENADR_CERT"), "CERTIFICATE", problems
    )
    key = _pem(
        "HEMS_OPENADR_KEY", _env(env, "HEMS_OPENADR_KEY"), "PRIVATE KEY", problems
    )
    if bool(cert) != bool(key) and len(problems) == found:
        problems.append(
            "HEMS_OPENADR_CERT: set together with HEMS_OPENADR_KEY, or neither"
        )
    return ven, ({"cert.pem": cert, "key.pem": key} if cert and key else {})


def wanted(env: Mapping[str, str]) -> tuple[FlexWanted | None, list[str]]:
    """Read the variables; return what they ask, or None and a line per problem."""
    problems: list[str] = []
    policy = _env(env, "HEMS_FLEX_POLICY").lower() or None
    if policy is not None and policy not in POLICIES:
        problems.append("HEMS_FLEX_POLICY: not one of auto, ask, decline")
    ven: dict[str, Any] | None = None
    pem: dict[str, str] = {}
    if url := _env(env, "HEMS_OPENADR_VTN_URL"):
        ven, pem = _ven(env, url, problems)
    if problems:
        return None, problems
    return FlexWanted(ven=ven, policy=POLICIES[policy] if policy else None, pem=pem), []


def _section(entry: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of an entry's flex section (empty if it has none)."""
    options = entry.get("options")
    section = options.get(SECTION) if isinstance(options, dict) else None
    return dict(section) if isinstance(section, dict) else {}


def _wanted_section(
    before: dict[str, Any],
    ven: dict[str, Any] | None,
    policy: str | None,
    *,
    managed: bool,
) -> dict[str, Any]:
    """Return the flex section the variables ask for, from the one stored."""
    after = dict(before)
    if ven is not None or managed:
        for key in VEN_KEYS:
            after.pop(key, None)
    if ven is not None:
        after |= ven
    if policy is not None:
        after[POLICY] = policy
    return after


def apply(
    entries: list[dict[str, Any]],
    want: FlexWanted,
    config: Path,
    managed: list[str],
) -> tuple[bool, list[str]]:
    """Bring the hems entries' flex sections in line; update ``managed`` in place.

    ``managed`` lists the entries whose VEN settings the fleet set (kept in
    the marker file). Returns whether an entry changed, and a note per entry.
    """
    hems = [entry for entry in entries if entry.get("domain") == DOMAIN]
    asked = want.ven is not None or want.policy is not None
    if not hems:
        return False, [NO_ENTRY] if asked else []
    ven = dict(want.ven) if want.ven is not None else None
    if ven is not None and want.pem:
        for name, text in want.pem.items():
            _write_pem(config / PEM_DIR / name, text)
        ven[CERT] = str(config / PEM_DIR / "cert.pem")
        ven[KEY] = str(config / PEM_DIR / "key.pem")
    changed = False
    notes = []
    for entry in hems:
        entry_id = str(entry.get("entry_id"))
        title = entry.get("title") or entry_id
        before = _section(entry)
        after = _wanted_section(before, ven, want.policy, managed=entry_id in managed)
        if ven is not None and entry_id not in managed:
            managed.append(entry_id)
        elif ven is None and entry_id in managed:
            managed.remove(entry_id)
        if after == before:
            if asked:
                notes.append(f"hems '{title}': flex settings up to date")
            continue
        entry["options"] = {**(entry.get("options") or {}), SECTION: after}
        changed = True
        notes += _changes(f"hems '{title}'", before, after)
    return changed, notes


def _changes(who: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Say what changed in a flex section (no secrets: the URL's host only)."""
    notes = []
    if url := after.get(VTN_URL):
        if any(before.get(key) != after.get(key) for key in VEN_KEYS):
            host = urlsplit(url).hostname
            notes.append(f"{who}: OpenADR VEN set for the VTN at {host}")
    elif before.get(VTN_URL):
        notes.append(f"{who}: OpenADR VEN turned off")
    if before.get(POLICY) != after.get(POLICY):
        notes.append(f"{who}: flex policy {after.get(POLICY)}")
    return notes


def _write_pem(path: Path, text: str) -> None:
    """Write a PEM file readable by its owner only (unchanged ones untouched)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f"{path.name}.hems-tmp")
    tmp.unlink(missing_ok=True)
    tmp.touch(mode=0o600)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
