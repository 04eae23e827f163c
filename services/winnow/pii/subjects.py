"""Keyed hashes of the identifiers redaction removes, so a person's data can be found and erased.

Each example (and dead letter) carries ``subjects``: ``type:hmac`` strings, one per distinct
e-mail, phone number, id, username and name its redaction removed. The HMAC-SHA256 key
(``WINNOW_PII_SUBJECT_KEY``, a Secret) keeps them from being reversed by hashing every phone
number; without it nothing is recorded and ``winnow erase`` refuses to run. Values are
normalised first, so ``Jane@Example.com`` and ``jane@example.com``, or ``+1 415 555 0100`` and
``(415) 555-0100``, give the same hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from winnow.pii.types import PiiSpan, PiiType

# The types a person can ask to be erased by; cards and IBANs are redacted but not indexed.
SUBJECT_TYPES = frozenset(
    {PiiType.EMAIL, PiiType.PHONE, PiiType.ID, PiiType.USERNAME, PiiType.NAME}
)
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def normalise(pii_type: PiiType, value: str) -> str:
    """The comparable form of a value: case, spacing and punctuation removed as they vary."""
    if pii_type is PiiType.EMAIL:
        return value.strip().lower()
    if pii_type is PiiType.PHONE:
        digits = "".join(ch for ch in value if ch.isdigit())
        return digits[-10:]  # national number: with or without a country code
    if pii_type is PiiType.NAME:
        return " ".join(value.lower().split())
    return _NOT_ALNUM.sub("", value).upper()


def subject_hash(key: bytes, pii_type: PiiType, value: str) -> str:
    """``type:hex`` keyed hash of one value (128 bits of HMAC-SHA256)."""
    # Ids and usernames share one namespace: a customer id may be redacted as either.
    kind = "id" if pii_type in (PiiType.ID, PiiType.USERNAME) else pii_type.value
    digest = hmac.new(key, f"{kind}:{normalise(pii_type, value)}".encode(), hashlib.sha256)
    return f"{kind}:{digest.hexdigest()[:32]}"


def subjects_of(key: bytes | None, text: str, spans: Iterable[PiiSpan]) -> set[str]:
    """The subject hashes of the identifier spans found in ``text`` (none without a key)."""
    if not key:
        return set()
    return {
        subject_hash(key, s.type, text[s.start : s.end])
        for s in spans
        if s.type in SUBJECT_TYPES and text[s.start : s.end].strip()
    }
