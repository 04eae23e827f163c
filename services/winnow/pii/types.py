"""The kinds of personal data redaction finds, their placeholders and the result records."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from enum import StrEnum


class PiiType(StrEnum):
    """The kinds of personal data and secrets redaction finds; each has one placeholder."""

    EMAIL = "email"
    """An e-mail address."""
    PHONE = "phone"
    """A phone number in an international or national written form."""
    CARD = "card"
    """A Luhn-valid payment card number."""
    IBAN = "iban"
    """An IBAN with a valid mod-97 checksum."""
    SSN = "ssn"
    """A US social security number."""
    IP = "ip"
    """An IPv4 or IPv6 address."""
    URL_TOKEN = "url_token"
    """A URL carrying a token, key, signature or password (the whole URL is replaced)."""
    SECRET = "secret"
    """An API key, access token, JWT, private key, password or other random-looking secret."""
    NAME = "name"
    """A person's name (customer, agent, salutation or sign-off)."""
    ADDRESS = "address"
    """A postal address: street line, or city/state/zip together, or a zip code given as such."""
    ID = "id"
    """An account, customer, member, policy, claim or booking number, or a bare numeric answer."""
    USERNAME = "username"
    """A login or user name."""
    ORDER = "order"
    """An order, ticket, invoice or tracking number (kept, pseudonymised or redacted: a setting)."""
    CREDENTIAL = "credential"
    """A PIN, password or security answer said in words ("my PIN is 4421")."""


PLACEHOLDERS: dict[PiiType, str] = {
    PiiType.EMAIL: "<EMAIL>",
    PiiType.PHONE: "<PHONE>",
    PiiType.CARD: "<CARD>",
    PiiType.IBAN: "<IBAN>",
    PiiType.SSN: "<SSN>",
    PiiType.IP: "<IP>",
    PiiType.URL_TOKEN: "<URL>",
    PiiType.SECRET: "<SECRET>",
    PiiType.NAME: "<NAME>",
    PiiType.ADDRESS: "<ADDRESS>",
    PiiType.ID: "<ID>",
    PiiType.USERNAME: "<USERNAME>",
    PiiType.CREDENTIAL: "<CREDENTIAL>",
    PiiType.ORDER: "<ORDER>",
}


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """Where a hit lies in the original text (half-open ``[start, end)``), and its type."""

    start: int
    end: int
    type: PiiType


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Redacted text and the number of hits per type (types with no hit are absent)."""

    text: str
    counts: dict[PiiType, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of hits of every type."""
        return sum(self.counts.values())


# The types the pattern detectors find (``find_pii(..., entities=False)``) and the generated
# corpus of ``winnow pii measure`` plants; the others come from ``winnow.pii.entities``.
PATTERN_TYPES: tuple[PiiType, ...] = (
    PiiType.EMAIL, PiiType.PHONE, PiiType.CARD, PiiType.IBAN, PiiType.SSN, PiiType.IP,
    PiiType.URL_TOKEN, PiiType.SECRET,
)  # fmt: skip

# Word-level values get numbered placeholders: which name is which matters to a model learning
# from a conversation ("<NAME_1> asked <NAME_2> to ..."), which card is which much less.
NUMBERED = frozenset(
    {PiiType.NAME, PiiType.ADDRESS, PiiType.ID, PiiType.USERNAME, PiiType.CREDENTIAL, PiiType.ORDER}
)


@dataclass(slots=True)
class Numbering:
    """Numbered placeholders for one conversation: equal values, equal placeholder."""

    seen: dict[tuple[PiiType, str], str] = field(default_factory=dict)
    per_type: dict[PiiType, int] = field(default_factory=dict)
    surrogate_key: bytes | None = None
    """With a key, values become realistic stand-ins (``winnow.pii.surrogates``) instead of
    ``<NAME_1>``; types without a safe stand-in keep their placeholders."""
    order_key: bytes | None = None
    """With a key, order numbers become keyed pseudonyms (``ORD-3F9A1C22D0``): the same order
    gets the same pseudonym in every ticket, so a model still sees one order referred to twice."""

    def placeholder(self, pii_type: PiiType, value: str) -> str:
        """``<NAME_1>`` for the first name seen, the same again for the same name."""
        if pii_type is PiiType.ORDER and self.order_key:
            norm = "".join(ch for ch in value.upper() if ch.isalnum())
            digest = hmac.new(self.order_key, b"order:" + norm.encode(), hashlib.sha256)
            return "ORD-" + digest.hexdigest()[:10].upper()
        if self.surrogate_key is not None:
            from winnow.pii.surrogates import surrogate

            stand_in = surrogate(self.surrogate_key, pii_type, value)
            if stand_in is not None:
                return stand_in
        if pii_type not in NUMBERED:
            return PLACEHOLDERS[pii_type]
        key = (pii_type, " ".join(value.lower().split()))
        if pii_type is PiiType.NAME and key not in self.seen:
            # "Priya" after "Priya Raman" is the same person: match on an earlier name's parts.
            for (t, seen), tag in self.seen.items():
                if t is pii_type and (key[1] in seen.split() or seen in key[1].split()):
                    return tag
        if key not in self.seen:
            n = self.per_type.get(pii_type, 0) + 1
            self.per_type[pii_type] = n
            self.seen[key] = f"{PLACEHOLDERS[pii_type][:-1]}_{n}>"
        return self.seen[key]
