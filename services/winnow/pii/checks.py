"""Validators behind PII redaction: checksums and shape rules that turn regex candidates into hits.

Each function answers one question about an already-extracted candidate string and has no regex
scanning of its own beyond small anchored patterns, so ``winnow.pii.redact`` can call them per
candidate. They are public so tests (and callers building their own rules) can use them directly.
"""

from __future__ import annotations

import ipaddress
import itertools
import re

# ISO 13616 registry: country code -> IBAN length (whole IBAN, letters and check digits included).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_+/=\-]+")
_SEPARATORS = re.compile(r"[_+/=\-]+")
# dd mm yyyy / mm dd yyyy at the start of a digit-group run: a date, not a national phone number.
_DATE_START = re.compile(r"\d{1,2}[ .\-]\d{1,2}[ .\-](?:19|20)\d\d")


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check used by payment cards."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_valid(candidate: str) -> bool:
    """True for 13-19 digits in a card grouping, starting 2-6 (every major network), Luhn-valid.

    Groupings: no separators, or one separator kind (space or dash) between groups of four with a
    shorter last group, or the 4-6-5 / 4-6-4 groups of American Express and Diners.
    """
    seps = {ch for ch in candidate if not ch.isdigit()}
    if len(seps) > 1:
        return False
    groups = re.split(r"[ \-]", candidate) if seps else [candidate]
    digits = "".join(groups)
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456":
        return False
    if len(groups) > 1:
        lens = [len(g) for g in groups]
        fours = all(n == 4 for n in lens[:-1]) and 1 <= lens[-1] <= 4
        if not (fours or lens in ([4, 6, 5], [4, 6, 4])):
            return False
    return luhn_valid(digits)


def iban_valid(candidate: str) -> bool:
    """True for an IBAN (spaces allowed) of its country's length whose ISO 7064 mod-97 is 1."""
    s = candidate.replace(" ", "").upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not s[2:4].isdigit() or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """True for an SSN the SSA could issue: area not 000/666/9xx, group not 00, serial not 0000."""
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
    )


def ipv4_valid(candidate: str) -> bool:
    """True for a dotted quad with every octet in 0-255 and no leading zeros."""
    parts = candidate.split(".")
    return len(parts) == 4 and all(
        p.isdigit() and int(p) <= 255 and (p == "0" or not p.startswith("0")) for p in parts
    )


def ipv6_valid(candidate: str) -> bool:
    """True for an IPv6 address ``ipaddress`` accepts, with at least two non-empty groups.

    ``::`` and ``::1`` (unspecified and loopback) identify nobody and are left alone; times and MAC
    addresses fail ``ipaddress`` because they have neither eight groups nor ``::``.
    """
    if sum(1 for g in candidate.split(":") if g) < 2:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def looks_random(token: str, min_len: int = 24) -> bool:
    """True for a machine-made secret: long, mixing character classes, changing class often.

    Hex strings of 32+ characters (API keys, digests) count; UUIDs do not (they are order, ticket
    and request ids far more often than credentials). Otherwise the token mixes at least two of
    lower case, upper case and digits, and the class changes often: from one character to the
    next at least 30% of the time with all three classes (random base62: ~62%; CamelCase
    identifiers and slugs: ~15%), 35% with two (random base52: 50%, base36: 40%). Changes are
    counted inside the pieces between separators (``-_+/=``), so ``Title-Case-Slug-28`` stays;
    anything with other characters (``!``, ``.``, ``:``) is not a token at all.
    """
    if len(token) < min_len or _UUID.fullmatch(token) or not _TOKEN_CHARS.fullmatch(token):
        return False
    core = token.rstrip("=")
    if _HEX.fullmatch(core):
        return len(core) >= 32 and not core.isdigit() and not core.isalpha()
    words = [piece for piece in _SEPARATORS.split(core) if piece]
    lower = sum(ch.islower() for ch in core)
    if lower >= 2 * (len(core) - lower) and all(_CAMEL_WORDS.fullmatch(w) for w in words):
        return False  # "FullName/DateOfBirth/SecurityAnswer1": field names, not a secret
    pieces = [[_kind(ch) for ch in piece] for piece in words]
    kinds = {k for piece in pieces for k in piece}
    pairs = sum(len(piece) - 1 for piece in pieces)
    if len(kinds) < 2 or pairs < min_len - 4:
        return False
    changes = sum(a != b for piece in pieces for a, b in itertools.pairwise(piece))
    return changes / pairs >= (0.3 if len(kinds) == 3 else 0.35)


# CamelCase words (a capital and lower-case letters, or a short acronym), then at most two
# digits, mostly lower case: an identifier a person wrote, not a random token.
# (Possessive: a long run of capitals must not be re-split on failure.)
_CAMEL_WORDS = re.compile(r"(?:[A-Z][a-z]+|[A-Z]{2,4}(?![a-z]))++[0-9]{0,2}")


def _kind(ch: str) -> int:
    return 0 if ch.islower() else 1 if ch.isupper() else 2


def phone_valid(tokens: list[str], seps: list[str], context: bool, free: bool = True) -> bool:
    """True when digit groups form a phone number in an international or national written form.

    ``tokens`` are the digit groups as written (``+44``, ``(415)``, ``7946``), ``seps`` the text
    between them. Accepted: ``+`` or ``00`` followed by 8-15 digits (E.164); North American
    3-3-4 groups (optionally led by ``1``) with valid area and exchange codes; national numbers
    with a trunk ``0`` in two or more groups, 9-11 digits. A lone run of digits counts only with
    a phone word (``call``, ``phone``, ``mobile``...) just before it (``context``). Groups that
    do not start a run of digit groups (``free`` is false: other groups precede them) count only
    in the unmistakable forms: ``+`` or North American 3-3-4. ZIP+4 codes (``02139-4307``) and
    SSN-shaped 3-2-4 groups are never phone numbers.
    """
    if any(sep not in ("", " ", "-", ".", " - ") for sep in seps):
        return False
    if any(t.count("(") != t.count(")") for t in tokens):
        return False
    groups = [t.strip("+()") for t in tokens]
    digits = "".join(groups)
    n = len(digits)
    single = len(tokens) == 1
    if tokens[0].startswith("+"):
        return 8 <= n <= 15 and digits[0] != "0"
    lens = [len(g) for g in groups]
    if lens in ([5, 4], [3, 2, 4]) and seps in (["-"], ["-", "-"]):
        return False
    nanp = digits[1:] if n == 11 and digits[0] == "1" else digits if n == 10 else ""
    nanp_codes = bool(nanp) and nanp[0] in "23456789" and nanp[3] in "23456789"
    if nanp_codes and (lens in ([3, 3, 4], [1, 3, 3, 4]) or (single and context and free)):
        return True
    if not free:
        return False
    if digits.startswith("00") and digits[2] != "0":
        return 10 <= n <= 17 and (not single or context)
    if digits[0] == "0" and digits[1] != "0" and 9 <= n <= 11:
        if single:
            return context
        joined = "".join(t + s for t, s in zip(tokens, [*seps, ""], strict=True))
        return (
            len(groups[0]) <= 5
            and all(len(g) >= 2 for g in groups[1:])
            and not _DATE_START.match(joined)
        )
    return False
