"""Realistic stand-ins for removed values ("Anna Keller" for a name), so training text still
reads as a conversation. Deterministic by a keyed hash: the same value gets the same stand-in
in every ticket under one key, and nobody without the key can map a stand-in back.

Stand-ins come from lists inside installed wheels (Census names) and from reserved ranges that
never belong to anyone: ``555-01xx`` phone numbers, ``example.com`` addresses, TEST-NET IPs,
SSNs with area ``000`` (never issued) and published test card numbers. No Faker, nothing
downloaded. Types with no safe stand-in (IBANs, URLs, secrets, credentials) keep placeholders.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from winnow.pii.types import PiiType

# Published test numbers of the card networks: never a real account.
_TEST_CARDS = ("4111 1111 1111 1111", "5555 5555 5555 4444", "4012 8888 8888 1881",
               "3782 822463 10005", "6011 1111 1111 1117")  # fmt: skip
_STREETS = ("Street", "Avenue", "Road", "Lane", "Drive", "Court")


@cache
def _names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Common first names and surnames (Census lists: the top of each), sorted for stability."""
    from winnow.pii.lexicon import _census, _surname_ranks

    firsts = sorted(w for w in _census("dist.female.first") | _census("dist.male.first"))
    lasts = sorted(w for w, rank in _surname_ranks().items() if rank <= 2000)
    return tuple(firsts[:: max(1, len(firsts) // 1500)]), tuple(lasts)


def _digest(key: bytes, pii_type: PiiType, value: str) -> bytes:
    return hmac.new(key, f"{pii_type.value}:{value}".encode(), hashlib.sha256).digest()


def _pick(options: tuple[str, ...], digest: bytes, at: int = 0) -> str:
    return options[int.from_bytes(digest[at : at + 4], "big") % len(options)]


def _cased(surrogate: str, original: str) -> str:
    """Lower-case chat gets a lower-case stand-in; otherwise Title-case."""
    return surrogate.lower() if original.islower() else surrogate.title()


def _shape(value: str, digest: bytes) -> str:
    """Same shape, other characters: digits stay digits, letters letters ("ab 4521")."""
    out = []
    for i, ch in enumerate(value):
        b = digest[i % len(digest)] ^ (i * 31 & 0xFF)
        if ch.isdigit():
            out.append(str(b % 10))
        elif ch.isalpha():
            letter = chr(ord("a") + b % 26)
            out.append(letter.upper() if ch.isupper() else letter)
        else:
            out.append(ch)
    return "".join(out)


def surrogate(key: bytes, pii_type: PiiType, value: str) -> str | None:
    """A stand-in for ``value``, or None where the type keeps its placeholder."""
    norm = " ".join(value.lower().split())
    d = _digest(key, pii_type, norm)
    firsts, lasts = _names()
    if pii_type is PiiType.NAME:
        # Word by word, so "Priya" alone and "Priya Raman" give the same first word.
        words = [
            _pick(firsts if i == 0 else lasts, _digest(key, pii_type, w))
            for i, w in enumerate(norm.split())
        ]
        return _cased(" ".join(words), value)
    if pii_type is PiiType.ADDRESS:
        if norm.isdigit():  # a zip code
            return _shape(norm, d)
        text = f"{int.from_bytes(d[:2], 'big') % 9000 + 100} {_pick(lasts, d, 4)} "
        return _cased(text + _pick(_STREETS, d, 8), value)
    if pii_type is PiiType.EMAIL:
        return f"{_pick(firsts, d).lower()}.{d[4:6].hex()}@example.com"
    if pii_type is PiiType.PHONE:
        return f"555-01{int.from_bytes(d[:2], 'big') % 100:02d}"
    if pii_type is PiiType.CARD:
        return _pick(_TEST_CARDS, d)
    if pii_type is PiiType.SSN:
        return f"000-{d[0] % 90 + 10:02d}-{int.from_bytes(d[1:3], 'big') % 9000 + 1000:04d}"
    if pii_type is PiiType.IP:
        return f"192.0.2.{d[0] % 254 + 1}"
    if pii_type in (PiiType.ID, PiiType.USERNAME):
        return _shape(value, d)
    return None
