"""Value generators for the planted-PII corpus: PII in many written forms, and hard negatives.

``VALUES[type](rng)`` returns one value and, when the value only counts as PII in context (a bare
phone number after "call me on", a bare SSN after "SSN:"), the template that supplies it.
``NEGATIVES[kind](rng)`` returns a look-alike that must survive redaction.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import string
import uuid
from collections.abc import Callable

from winnow.pii.checks import IBAN_LENGTHS, luhn_valid
from winnow.pii.types import PiiType

Rng = random.Random

_FIRST = ("jane", "john", "maria", "li", "ahmed", "olga", "sam", "priya", "lucas", "emma", "kenji")
_LAST = ("doe", "smith", "garcia", "wang", "khan", "ivanova", "lee", "patel", "martin", "o'neil")
_DOMAINS = (
    "example.com",
    "gmail.com",
    "acme-corp.co.uk",
    "mail.example.org",
    "outlook.de",
    "web.fr",
)
_HOSTS = ("app.acme.com", "portal.example.org", "files.acme-cdn.net", "api.shop.example.com")
_B62 = string.ascii_letters + string.digits


def _d(rng: Rng, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _tok(rng: Rng, n: int, alphabet: str = _B62) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def email(rng: Rng) -> tuple[str, str | None]:
    """An address in one of several local-part shapes."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST).replace("'", "")
    local = rng.choice(
        (f"{first}.{last}", f"{first}_{last}{rng.randint(1, 99)}", f"{first[0]}{last}+orders",
         f"{first.upper()}.{last.title()}", f"{first}{rng.randint(1950, 2010)}")
    )  # fmt: skip
    return f"{local}@{rng.choice(_DOMAINS)}", None


def _nanp(rng: Rng) -> tuple[str, str, str]:
    return f"{rng.randint(2, 9)}{_d(rng, 2)}", f"{rng.randint(2, 9)}{_d(rng, 2)}", _d(rng, 4)


def phone(rng: Rng) -> tuple[str, str | None]:
    """A phone number in a North American, European, Indian or Australian written form."""
    a, e, s = _nanp(rng)
    forms = (
        f"+1 {a} {e} {s}", f"({a}) {e}-{s}", f"{a}-{e}-{s}", f"{a}.{e}.{s}", f"1-{a}-{e}-{s}",
        f"+1-{a}-{e}-{s}", f"+1 ({a}) {e}-{s}", f"+1{a}{e}{s}",
        f"+44 20 {_d(rng, 4)} {_d(rng, 4)}", f"+44 (0)20 {_d(rng, 4)} {_d(rng, 4)}",
        f"020 {_d(rng, 4)} {_d(rng, 4)}", f"0044 20 {_d(rng, 4)} {_d(rng, 4)}",
        f"+44 7700 {_d(rng, 6)}", f"07700 {_d(rng, 6)}", f"+49 30 {_d(rng, 6)}",
        f"+49 151 {_d(rng, 8)}", f"030 {_d(rng, 6)}", f"+33 6 {_d(rng, 2)} {_d(rng, 2)} "
        f"{_d(rng, 2)} {_d(rng, 2)}", f"06 {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)}",
        f"+91 9{_d(rng, 4)} {_d(rng, 5)}", f"+61 2 {_d(rng, 4)} {_d(rng, 4)}",
        f"+34 612 {_d(rng, 3)} {_d(rng, 3)}", f"+81 3-{_d(rng, 4)}-{_d(rng, 4)}",
    )  # fmt: skip
    if rng.random() < 0.08:
        return f"{a}{e}{s}", rng.choice(
            ("Call me on {} please.", "My cell: {}", "Text {} anytime.")
        )
    return rng.choice(forms), None


def _luhn_complete(prefix: str, length: int, rng: Rng) -> str:
    body = prefix + _d(rng, length - len(prefix) - 1)
    return next(body + c for c in string.digits if luhn_valid(body + c))


def card(rng: Rng) -> tuple[str, str | None]:
    """A Luhn-valid Visa, Mastercard, Amex, Discover or JCB number, plain, spaced or dashed."""
    prefix, length = rng.choice(
        (("4", 16), ("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
         ("6011", 16), ("35", 16), ("4", 19))
    )  # fmt: skip
    num = _luhn_complete(prefix, length, rng)
    if length == 15 and rng.random() < 0.7:
        sep = rng.choice(" -")
        return f"{num[:4]}{sep}{num[4:10]}{sep}{num[10:]}", None
    sep = rng.choice(("", " ", " ", "-"))
    return sep.join(num[i : i + 4] for i in range(0, length, 4)), None


def _iban_check(country: str, bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def iban(rng: Rng, *, valid: bool = True) -> tuple[str, str | None]:
    """An IBAN (compact or in groups of four) of a European country; ``valid=False`` breaks it."""
    country = rng.choice(("DE", "GB", "FR", "NL", "ES", "IT", "BE", "CH", "AT", "PL", "IE", "NO"))
    n = IBAN_LENGTHS[country] - 4
    bank = _tok(rng, 4, string.ascii_uppercase) if country in ("GB", "NL", "IE") else _d(rng, 4)
    bban = bank + _d(rng, n - 4)
    check = _iban_check(country, bban)
    if not valid:
        check = f"{(int(check) + rng.randint(1, 90)) % 97 + 2:02d}"[-2:]
    compact = country + check + bban
    if rng.random() < 0.5:
        return compact, None
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)), None


def ssn(rng: Rng) -> tuple[str, str | None]:
    """A US SSN that passes the SSA rules, dashed, spaced, or bare after 'SSN'."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    parts = f"{area:03d}", f"{rng.randint(1, 99):02d}", f"{rng.randint(1, 9999):04d}"
    if rng.random() < 0.15:
        return "".join(parts), rng.choice(("SSN: {}", "my ssn is {}", "Social security no. {}"))
    return rng.choice("- ").join(parts), None


def ip(rng: Rng) -> tuple[str, str | None]:
    """An IPv4 or IPv6 address (compressed, exploded or link-local)."""
    r = rng.random()
    if r < 0.6:
        return str(ipaddress.IPv4Address(rng.getrandbits(32) | 0x01000000)), None
    v6 = ipaddress.IPv6Address(rng.getrandbits(128))
    if r < 0.75:
        return v6.exploded, None
    if r < 0.9:
        return f"2001:db8::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}", None
    return f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}", None


def url_token(rng: Rng) -> tuple[str, str | None]:
    """A URL carrying a token, key, signature, password or random path segment."""
    host, tok = rng.choice(_HOSTS), _tok(rng, rng.randint(20, 40))
    return rng.choice(
        (f"https://{host}/reset?token={tok}", f"https://{host}/v1/orders?api_key={tok}&page=2",
         f"https://{host}/dl/report.pdf?X-Amz-Signature={_tok(rng, 64, '0123456789abcdef')}",
         f"https://{host}/auth/callback#access_token={tok}&state=xyz",
         f"https://admin:{_tok(rng, 10)}@{host}/backup", f"https://{host}/magic/{tok}",
         f"http://{host}/unsubscribe?email=1&sig={tok}")
    ), None  # fmt: skip


def _b64(obj: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def secret(rng: Rng) -> tuple[str, str | None]:
    """An API key with a known prefix, a JWT, a PEM key, a random token or a typed password."""
    kind = rng.randrange(12)
    if kind == 0:
        return "AKIA" + _tok(rng, 16, string.ascii_uppercase + string.digits), None
    if kind == 1:
        return rng.choice(("ghp_", "gho_")) + _tok(rng, 36), None
    if kind == 2:
        return f"github_pat_{_tok(rng, 22)}_{_tok(rng, 59)}", None
    if kind == 3:
        return f"xoxb-{_d(rng, 11)}-{_d(rng, 12)}-{_tok(rng, 24)}", None
    if kind == 4:
        return rng.choice(("sk_live_", "rk_live_", "sk_test_")) + _tok(rng, 24), None
    if kind == 5:
        return rng.choice(("sk-", "sk-proj-")) + _tok(rng, 48), None
    if kind == 6:
        return "AIza" + _tok(rng, 35, _B62 + "-_"), None
    if kind == 7:
        header, payload = _b64({"alg": "HS256"}), _b64({"sub": _d(rng, 8), "n": _tok(rng, 6)})
        return f"eyJ{header[3:]}.eyJ{payload[3:]}.{_tok(rng, 43, _B62 + '-_')}", None
    if kind == 8:
        body = "\n".join(_tok(rng, 64, _B62 + "+/") for _ in range(3))
        return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----", None
    if kind == 9:
        return _tok(rng, 40, "0123456789abcdef"), None
    if kind == 10:
        pw = _tok(rng, 4, string.ascii_letters) + _d(rng, 2) + rng.choice("!#$%&*") + "x"
        return pw, rng.choice(("My password is {} if that helps.", "password: {}", "pwd={}"))
    return _tok(rng, rng.randint(24, 44)), None


VALUES: dict[PiiType, Callable[[Rng], tuple[str, str | None]]] = {
    PiiType.EMAIL: email,
    PiiType.PHONE: phone,
    PiiType.CARD: card,
    PiiType.IBAN: iban,
    PiiType.SSN: ssn,
    PiiType.IP: ip,
    PiiType.URL_TOKEN: url_token,
    PiiType.SECRET: secret,
}


def _bad_luhn(rng: Rng) -> str:
    num = _luhn_complete("4", 16, rng)
    num = num[:-1] + str((int(num[-1]) + rng.randint(1, 9)) % 10)
    return rng.choice(("", " ")).join(num[i : i + 4] for i in range(0, 16, 4))


def _bad_ssn(rng: Rng) -> str:
    area, group, serial = rng.choice(
        (("000", f"{rng.randint(1, 99):02d}", _d(rng, 4)), ("666", "12", _d(rng, 4)),
         (f"9{_d(rng, 2)}", "45", _d(rng, 4)), (f"{rng.randint(1, 899):03d}", "00", "1234"))
    )  # fmt: skip
    return f"{area}-{group}-{serial}"


NEGATIVES: dict[str, Callable[[Rng], str]] = {
    "order": lambda r: rng_choice(r, f"#ORD-{_d(r, 6)}", f"ORD-{_d(r, 8)}", f"#{_d(r, 5)}"),
    "invoice": lambda r: f"INV-{r.randint(2019, 2025)}-{_d(r, 6)}",
    "date": lambda r: rng_choice(
        r,
        f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
        f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/2025",
        f"{r.randint(1, 28)} May 2024",
        f"{r.randint(1, 28):02d}.{r.randint(1, 12):02d}.2023",
    ),
    "time": lambda r: rng_choice(r, f"{r.randint(0, 23)}:{r.randint(0, 59):02d}", "14:05:22"),
    "price": lambda r: rng_choice(
        r, f"${r.randint(1, 9)},{_d(r, 3)}.{_d(r, 2)}", f"€{r.randint(1, 999)}.99", "USD 2,500"
    ),
    "version": lambda r: rng_choice(
        r,
        f"v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
        f"version {r.randint(1, 20)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 999)}",
        f"build {r.randint(10, 99)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(100, 999)}",
    ),
    "year": lambda r: str(r.randint(1990, 2030)),
    "tracking": lambda r: rng_choice(
        r,
        f"1Z{_tok(r, 6, string.ascii_uppercase + string.digits)}{_d(r, 10)}",
        " ".join(["9400", *(_d(r, 4) for _ in range(4)), _d(r, 2)]),
        f"{_d(r, 4)} {_d(r, 4)} {_d(r, 4)}",
    ),
    "placeholder": lambda r: rng_choice(
        r, "{{Order Number}}", "{{Customer Support Phone Number}}", "{{Website URL}}", "{{Email}}"
    ),
    "bad_luhn": _bad_luhn,
    "bad_iban": lambda r: iban(r, valid=False)[0],
    "bad_ssn": _bad_ssn,
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128))),
    "plain_url": lambda r: rng_choice(
        r,
        "https://help.acme.com/articles/how-to-reset-your-password",
        f"https://acme.com/orders/{_d(r, 6)}?page=2&sort=desc",
        "https://acme.com/returns",
    ),
    "zip": lambda r: rng_choice(r, _d(r, 5), f"{_d(r, 5)}-{_d(r, 4)}", "SW1A 1AA"),
    "identifier": lambda r: rng_choice(
        r,
        "CustomerAccountSettingsPage",
        "order_confirmation_email_template_v2",
        "PaymentGatewayTimeoutException",
        "ShippingLabelPrinterConfig2024",
    ),
    "quantity": lambda r: rng_choice(r, f"{r.randint(2, 12)} items", "1920x1080", "15%", "4.5/5"),
}


def rng_choice(rng: Rng, *options: str) -> str:
    """One of ``options``, chosen by ``rng``."""
    return rng.choice(options)
