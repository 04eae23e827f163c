"""Dead letters at rest: the validator's originals are sealed (envelope encryption) or redacted.

A dead letter from the validator carries the record as it arrived: the only unredacted copy of
a ticket anywhere in Winnow. Before it reaches the DLQ topic (and so the ``dead_letters``
table), ``DlqSealer.seal`` replaces ``original`` with either

* a sealed envelope, when ``WINNOW_DLQ_KEY`` (a mounted Secret) is set: a fresh AES-256-GCM
  data key encrypts the bytes (the letter id is the associated data, so an envelope cannot be
  moved onto another letter), and the key from settings wraps that data key (AES-256-GCM too).
  ``MAGIC_SEALED | key id (8) | nonce (12) | wrapped data key (48) | nonce (12) | ciphertext``;
  the key id (first 8 bytes of the key's SHA-256) says which key opens it; or
* when no key is set, the redacted text (names, ids and all) behind ``MAGIC_REDACTED``: nothing
  unredacted is kept, at the price of exact replay.

``cryptography`` (the PyCA library, already installed with great-expectations) does the AES-GCM.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from winnow.errors import ConfigurationError
from winnow.events import DeadLetter
from winnow.pii.redact import find_pii, redact_pii
from winnow.pii.subjects import subjects_of

MAGIC_SEALED = b"WNDLQ1"
MAGIC_REDACTED = b"WNDLQ0\n"
_KEY_ID = 8
_NONCE = 12
_WRAPPED = 32 + 16


class SealError(ValueError):
    """An envelope that this key cannot open (another key, or damaged bytes)."""


def parse_key(text: str) -> bytes:
    """32 raw key bytes from URL-safe base64; ``ConfigurationError`` naming the fix otherwise."""
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError):
        key = b""
    if len(key) != 32:
        raise ConfigurationError(
            "WINNOW_DLQ_KEY must be 32 bytes in URL-safe base64: make one with `winnow dlq keygen`"
        )
    return key


def new_key() -> str:
    """A fresh DLQ key, URL-safe base64 (what ``WINNOW_DLQ_KEY`` takes)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def is_sealed(original: bytes) -> bool:
    """True for an encrypted envelope."""
    return original.startswith(MAGIC_SEALED)


def is_redacted(original: bytes) -> bool:
    """True for a redacted copy kept because no DLQ key was set."""
    return original.startswith(MAGIC_REDACTED)


class DlqSealer:
    """Seals dead letters with one key (or redacts them without one); opens its own envelopes."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key
        self.key_id = hashlib.sha256(key).digest()[:_KEY_ID] if key else b""

    @classmethod
    def from_text(cls, text: str | None) -> DlqSealer:
        """From the setting's value (None: redact instead of seal)."""
        return cls(parse_key(text) if text else None)

    @property
    def encrypts(self) -> bool:
        """True when letters are sealed, False when they are redacted."""
        return self._key is not None

    def seal_bytes(self, data: bytes, letter_id: str) -> bytes:
        """The envelope of ``data``, bound to ``letter_id``."""
        if self._key is None:
            text = data.decode("utf-8", errors="replace")
            return MAGIC_REDACTED + redact_pii(text, entities=True).text.encode()
        dek = AESGCM.generate_key(bit_length=256)
        n1, n2 = os.urandom(_NONCE), os.urandom(_NONCE)
        wrapped = AESGCM(self._key).encrypt(n1, dek, MAGIC_SEALED + self.key_id)
        body = AESGCM(dek).encrypt(n2, data, letter_id.encode())
        return MAGIC_SEALED + self.key_id + n1 + wrapped + n2 + body

    def seal(self, letter: DeadLetter, subject_key: bytes | None = None) -> DeadLetter:
        """``letter`` with its original sealed (or redacted); already sealed ones are kept.

        With ``subject_key`` the keyed hashes of the identifiers in the original are recorded
        first (``subjects``), so ``winnow erase`` finds the letter without opening it.
        """
        if is_sealed(letter.original) or is_redacted(letter.original):
            return letter
        update: dict[str, object] = {"original": self.seal_bytes(letter.original, letter.id)}
        if subject_key:
            text = letter.original.decode("utf-8", errors="replace")
            found = subjects_of(subject_key, text, find_pii(text, entities=True))
            update["subjects"] = sorted(found | set(letter.subjects))
        return letter.model_copy(update=update)

    def open(self, original: bytes, letter_id: str) -> bytes:
        """The original bytes of an envelope; ``SealError`` when this key cannot open it."""
        if not is_sealed(original):
            return original[len(MAGIC_REDACTED) :] if is_redacted(original) else original
        if self._key is None:
            raise SealError("this dead letter is encrypted: set WINNOW_DLQ_KEY to open it")
        p = len(MAGIC_SEALED)
        key_id, p = original[p : p + _KEY_ID], p + _KEY_ID
        if key_id != self.key_id:
            raise SealError(f"sealed with another key (id {key_id.hex()}), not this one")
        n1, p = original[p : p + _NONCE], p + _NONCE
        wrapped, p = original[p : p + _WRAPPED], p + _WRAPPED
        n2, body = original[p : p + _NONCE], original[p + _NONCE :]
        try:
            dek = AESGCM(self._key).decrypt(n1, wrapped, MAGIC_SEALED + key_id)
            return AESGCM(dek).decrypt(n2, body, letter_id.encode())
        except Exception as exc:  # InvalidTag: damaged bytes or another letter's envelope
            raise SealError("the envelope does not open: damaged, or not this letter's") from exc
