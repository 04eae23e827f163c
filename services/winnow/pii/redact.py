"""PII redaction: every piece of personal data or secret becomes a typed placeholder.

``redact_pii(text)`` returns the text with each hit replaced by ``<EMAIL>``, ``<PHONE>``,
``<CARD>``, ``<IBAN>``, ``<SSN>``, ``<IP>``, ``<URL>`` or ``<SECRET>`` and the number of hits per
``PiiType``; ``redact_example`` does it to every text field of an ``Example`` and recomputes its
content-hash id. Nothing keeps the original values: no mapping, no hashes of them.

How it decides, in this order (a span taken by an earlier detector is masked for later ones):

1. PEM private-key blocks (``-----BEGIN ... PRIVATE KEY-----`` to its END line, or to the end of
   the base64 when the block is cut off) -> SECRET.
2. URLs carrying credentials -> URL, *the whole URL*: a password in the userinfo, a query or
   fragment parameter named like a credential (``token``, ``api_key``, ``sig``, ``password``...),
   a known secret anywhere in it, or a random-looking path segment or value (reset and magic
   links). The whole URL goes because paths of such links carry user ids too. Other URLs stay,
   though the detectors below still redact e-mails or IPs inside them.
3. Known secret formats -> SECRET: AWS key ids (``AKIA``/``ASIA``...), GitHub (``ghp_``, ``gho_``,
   ``github_pat_``...), Slack ``xox?-``, Stripe ``sk_``/``rk_`` live and test keys, ``whsec_``,
   OpenAI/Anthropic ``sk-...``, Google ``AIza...``, GitLab ``glpat-``, npm, SendGrid, JWTs; and
   the value after ``password:``/``api_key=``/``password is`` when it is not a plain word.
4. E-mail addresses; 5. IBANs (country length and mod-97); 6. payment cards (card grouping,
   Luhn, first digit 2-6); 7. US SSNs (dashed or spaced; a bare 9-digit number only after
   ``SSN``/``social security``); 8. IPv6 (validated by ``ipaddress``) and IPv4 (octets 0-255,
   not right after ``version``/``build``/``release``...); 9. phone numbers (see
   ``winnow.pii.checks.phone_valid``).
10. Remaining random-looking tokens of 24+ characters -> SECRET (``pii_checks.looks_random``).

IBAN-shaped strings failing mod-97 and dashed SSN-shaped strings failing the SSA rules are
hidden from later detectors, so no card or phone number is read out of their digits. When a
round finds anything, a second round runs with the hits masked (values glued to one another).
Every pattern uses bounded repeats or single-start scans: 100 KB of adversarial text takes
about 0.1 s at worst (tested).

Left alone on purpose: UUIDs (ticket and request ids, not secrets), order numbers such as
``#ORD-123456``, dates, times, prices, version strings, years, tracking numbers, template
placeholders (``{{Order Number}}``), numbers failing their checksum, obfuscated addresses
(``jane at example dot com``), names and postal addresses (they need an NER model).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from winnow.pii.checks import (
    IBAN_LENGTHS,
    card_valid,
    iban_valid,
    ipv4_valid,
    ipv6_valid,
    looks_random,
    phone_valid,
    ssn_valid,
)
from winnow.pii.entities import Expect, find_entities
from winnow.pii.tokens import FUNCTION
from winnow.pii.types import PLACEHOLDERS, Numbering, PiiSpan, PiiType, RedactionResult

_MASK = "\x00"
_DIGIT = re.compile(r"\d")
_Span = tuple[int, int]

_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=:,\-\s]*)",
    re.DOTALL,
)
_URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s<>\"'`{}|\\^\x00]+", re.IGNORECASE)
_SECRET_PARAM = re.compile(
    r"(?:^|[_\-.])(?:token|secret|password|passwd|pwd|pass|apikey|api_key|key|sig|signature"
    r"|auth|authorization|credential|credentials|session|sessionid|sid|jwt|otp|code)$",
    re.IGNORECASE,
)
_KNOWN_SECRET = re.compile(
    r"""(?<![A-Za-z0-9_\-])(?:
        (?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}
      | gh[pousr]_[A-Za-z0-9]{36,255}
      | github_pat_[A-Za-z0-9_]{22,255}
      | xox[abposre]-[A-Za-z0-9\-]{10,250}
      | (?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}
      | whsec_[A-Za-z0-9]{24,}
      | sk-(?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9_\-]{20,}
      | AIza[0-9A-Za-z_\-]{35}
      | glpat-[A-Za-z0-9_\-]{20,}
      | npm_[A-Za-z0-9]{36}
      | SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}
      | eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*
    )(?![A-Za-z0-9_\-])""",
    re.VERBOSE,
)
_KNOWN_SECRET_TRIGGER = re.compile(
    r"AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|xox|_live_|_test_|whsec_|sk-|AIza|glpat-|npm_"
    r"|SG\.|eyJ"
)
_ASSIGNED_SECRET = re.compile(
    r"\b(?:(?:password|passwd|passcode|pwd|pin|api[_\- ]?key|secret|token|access[_\- ]key)"
    r"\s*[:=]|(?:password|passcode|pin)\s+is:?)\s*[\"']?(?P<v>[^\s\"'\x00<>{}]{4,})",
    re.IGNORECASE,
)
# One short group of letters or digits after an assigned value, ending the text or a clause.
_PASSWORD_TAIL = re.compile(r" ([A-Za-z]{1,4}|\d{1,4})(?=$|[\s.,;!?])")
_ASSIGNED_TRIGGERS = ("pass", "pwd", "pin", "key", "secret", "token")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
_IBAN_TRIGGER = re.compile(r"[A-Z]{2}\d\d")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
_CARD_TRIGGER = re.compile(r"\d{4}[ \-]?\d{4}")
_CARD = re.compile(r"(?<![\w+\-.])(?<!\d[ \-])[2-6]\d{3}(?:[ \-]?\d){9,15}(?![\w\-]|[ \-]\d)")
_SSN_TRIGGER = re.compile(r"\d{3}[\- ]?\d\d[\- ]?\d{4}")
_SSN = re.compile(
    r"(?<![\w\-.])(?<!\d )(\d{3})([\- ])(\d{2})\2(\d{4})(?![\w\-]|[ .]\d)"
    r"|(?<![\w\-.])(\d{3})(\d{2})(\d{4})(?![\w\-])"
)
_SSN_CONTEXT = re.compile(
    r"(?i)(?<!<)\b(?:ssn|ss#|social security(?: number| no\.?)?)(?:\s+(?:is|number|no\.?))?\W{0,6}$"
)
_IPV4_TRIGGER = re.compile(r"\d\.\d{1,3}\.\d")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\w)")
_VERSION_CONTEXT = re.compile(
    r"(?i)\b(?:version|versions|ver|build|release|firmware|fw|patch|update|upgrade|sdk)"
    r"[\s:#.]*$"
)
# Bounded repeats only: this runs on customer text, so no pattern may backtrack quadratically.
_IPV6 = re.compile(
    r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:])"
)
_PHONE_TRIGGER = re.compile(r"\d[\d ().\-]{6,}\d")
# A '+' may follow a digit ("...0958+44 20..."): nothing else reads as a country-code prefix.
_PHONE_RUN = re.compile(r"(?:(?<![A-Za-z_+\-./])\+|(?<![\w+\-./]))\(?\d[\d ().\-]{5,30}\d\)?")
_GLUED = re.compile(r"[A-Za-z0-9]|[\-.][A-Za-z0-9]")
_CONTINUED = re.compile(r"\d[ .\-]$")
_PHONE_TOKEN = re.compile(r"\+?\(?\d+\)?")
# (?<!<): the placeholders <PHONE> and <SSN> are no context for the next number.
_PHONE_CONTEXT = re.compile(
    r"(?i)(?<!<)\b(?:phone|tel|telephone|mobile|cell|cellphone|call|calling|text|sms|whatsapp|fax"
    r"|dial|ring)\b[^\n]{0,20}$"
)
_TOKEN = re.compile(r"(?<![A-Za-z0-9_+/\-])[A-Za-z0-9_+/\-]{24,}={0,2}(?![A-Za-z0-9_+/=\-])")


def _mask(text: str, spans: list[_Span]) -> str:
    parts: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        parts.append(text[pos:start])
        parts.append(_MASK * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _find_pem(text: str) -> Iterator[_Span]:
    if "-----BEGIN" not in text:
        return
    for m in _PEM.finditer(text):
        yield m.start(), m.start() + len(m.group().rstrip())


def _url_is_sensitive(url: str) -> bool:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return True  # malformed netloc: redact rather than guess
    if password or _KNOWN_SECRET.search(url):
        return True
    for name, value in parse_qsl(parts.query + "&" + parts.fragment, keep_blank_values=True):
        if value and (_SECRET_PARAM.search(name) or looks_random(value, 16)):
            return True
    return any(looks_random(unquote(seg), 16) for seg in parts.path.split("/") if len(seg) >= 16)


def _find_urls(text: str) -> tuple[list[_Span], list[_Span]]:
    """Split URLs into (sensitive, benign) spans; trailing sentence punctuation is not the URL's."""
    sensitive: list[_Span] = []
    benign: list[_Span] = []
    if "://" not in text:
        return sensitive, benign
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:!?'\"")
        while url.endswith((")", "]")) and url.count(url[-1]) > url.count(
            "(" if url[-1] == ")" else "["
        ):
            url = url[:-1].rstrip(".,;:!?")
        span = (m.start(), m.start() + len(url))
        (sensitive if _url_is_sensitive(url) else benign).append(span)
    return sensitive, benign


def _find_known_secrets(text: str) -> Iterator[_Span]:
    if _KNOWN_SECRET_TRIGGER.search(text):
        yield from (m.span() for m in _KNOWN_SECRET.finditer(text))
    lower = text.lower()
    if not any(word in lower for word in _ASSIGNED_TRIGGERS):
        return
    for m in _ASSIGNED_SECRET.finditer(text):
        # "My PIN is...oh no": an ellipsis before the value is a pause, not the value's start.
        lead = len(m.group("v")) - len(m.group("v").lstrip("."))
        value = m.group("v")[lead:].rstrip(".,;:!?)")
        plain_word = value.isalpha() and (value[1:].islower() or value.isupper())
        if len(value) >= 4 and not plain_word:
            start = m.start("v") + lead
            end = start + len(value)
            # Chat types a password over groups: "password is 8945 hs", "82482 fghg".
            if lead + len(value) == len(m.group("v")):
                tail = _PASSWORD_TAIL.match(text, end)
                if tail and tail.group(1).lower() not in FUNCTION:
                    end = tail.end()
            yield start, end


def _find_emails(text: str) -> Iterator[_Span]:
    if "@" in text:
        yield from (m.span() for m in _EMAIL.finditer(text))


def _end_of_nth_alnum(text: str, start: int, stop: int, n: int) -> int | None:
    """Index just past the ``n``-th non-space character of ``text[start:stop]``, if there is one."""
    for i in range(start, stop):
        if text[i] != " ":
            n -= 1
            if n == 0:
                return i + 1
    return None


def _find_ibans(text: str) -> tuple[list[_Span], list[_Span]]:
    """(valid, invalid) IBAN-shaped spans: invalid ones are hidden from the later detectors, so
    a card or phone number is not read out of a mistyped IBAN's digit groups."""
    valid: list[_Span] = []
    invalid: list[_Span] = []
    if not _IBAN_TRIGGER.search(text):
        return valid, invalid
    for m in _IBAN.finditer(text):
        want = IBAN_LENGTHS.get(m.group()[:2])
        if want is None:
            continue
        end = _end_of_nth_alnum(text, m.start(), m.end(), want)
        if end is None:
            continue
        if end < len(text) and text[end].isalnum():
            continue
        (valid if iban_valid(text[m.start() : end]) else invalid).append((m.start(), end))
    return valid, invalid


def _find_cards(text: str) -> Iterator[_Span]:
    if not _CARD_TRIGGER.search(text):
        return
    yield from (m.span() for m in _CARD.finditer(text) if card_valid(m.group()))


def _find_ssns(text: str) -> tuple[list[_Span], list[_Span]]:
    """(valid, invalid) SSN spans; invalid dashed ones (``000-12-3456``) are hidden from the
    phone detector, as the 3-2-4 dashed shape is an SSN's and never a phone number's."""
    valid: list[_Span] = []
    invalid: list[_Span] = []
    if not _SSN_TRIGGER.search(text):
        return valid, invalid
    for m in _SSN.finditer(text):
        if m.group(1) is not None:
            if ssn_valid(m.group(1), m.group(3), m.group(4)):
                valid.append(m.span())
            elif m.group(2) == "-":
                invalid.append(m.span())
        elif ssn_valid(m.group(5), m.group(6), m.group(7)) and _SSN_CONTEXT.search(
            text, max(0, m.start() - 40), m.start()
        ):
            valid.append(m.span())
    return valid, invalid


def _find_ips(text: str) -> Iterator[_Span]:
    if text.count(":") >= 2:
        yield from (m.span() for m in _IPV6.finditer(text) if ipv6_valid(m.group()))
    if not _IPV4_TRIGGER.search(text):
        return
    for m in _IPV4.finditer(text):
        if ipv4_valid(m.group()) and not _VERSION_CONTEXT.search(
            text, max(0, m.start() - 20), m.start()
        ):
            yield m.span()


def _phone_windows(toks: list[re.Match[str]], i: int, strong: bool) -> range | tuple[int, ...]:
    """Candidate window ends for a number starting at token ``i``, longest first.

    A strong start (a run's first group, or one led by ``+`` or ``(``) may span up to seven
    groups (``+44 (0)20 7946 0958``); a group inside a run may only start a 3-3-4 North American
    number. Keeping this small keeps long digit runs linear.
    """
    if strong:
        return range(min(len(toks), i + 7), i, -1)
    return tuple(j for j in (i + 4, i + 3) if j <= len(toks))


def _find_phones(text: str) -> Iterator[_Span]:
    if not _PHONE_TRIGGER.search(text):
        return
    for run in _PHONE_RUN.finditer(text):
        raw, base = run.group(), run.start()
        toks = list(_PHONE_TOKEN.finditer(raw))
        digits_before = list(
            itertools.accumulate((len(t.group().strip("+()")) for t in toks), initial=0)
        )
        # A run right after "digit + separator" continues something else ("IT60 0542 ...").
        free = not _CONTINUED.search(text, max(0, base - 2), base)
        context: bool | None = None
        i = 0
        while i < len(toks):
            strong = free or raw[toks[i].start()] in "+("
            for j in _phone_windows(toks, i, strong):
                if not 8 <= digits_before[j] - digits_before[i] <= 17:
                    continue  # no accepted form has fewer or more digits
                window = toks[i:j]
                end = base + window[-1].end()
                if _GLUED.match(text, end):
                    continue
                if len(window) == 1 and context is None:
                    context = bool(_PHONE_CONTEXT.search(text, max(0, base - 30), base))
                seps = [raw[a.end() : b.start()] for a, b in itertools.pairwise(window)]
                if phone_valid([t.group() for t in window], seps, bool(context), strong):
                    yield base + window[0].start(), end
                    i = j
                    free = True
                    break
            else:
                i += 1
                free = False


def _find_random_tokens(text: str) -> Iterator[_Span]:
    yield from (m.span() for m in _TOKEN.finditer(text) if looks_random(m.group()))


def _scan(text: str) -> tuple[list[PiiSpan], str]:
    """One round of every detector in order; returns the hits and the text with them masked."""
    found: list[PiiSpan] = []
    masked = text

    def take(pii_type: PiiType, spans: Iterator[_Span] | list[_Span]) -> None:
        # A detector's spans may overlap each other (a known key that is also a typed password):
        # the first one wins, so hits stay disjoint.
        nonlocal masked
        batch: list[_Span] = []
        for start, end in sorted(spans):
            if end > start and (not batch or start >= batch[-1][1]):
                batch.append((start, end))
        if batch:
            found.extend(PiiSpan(s, e, pii_type) for s, e in batch)
            masked = _mask(masked, batch)

    take(PiiType.SECRET, _find_pem(masked))
    token_urls, benign_urls = _find_urls(masked)
    take(PiiType.URL_TOKEN, token_urls)
    take(PiiType.SECRET, _find_known_secrets(masked))
    take(PiiType.EMAIL, _find_emails(masked))
    if _DIGIT.search(masked):  # fast path: the detectors in this block all need digits
        ibans, bad_ibans = _find_ibans(masked)
        take(PiiType.IBAN, ibans)
        masked = _mask(masked, bad_ibans) if bad_ibans else masked
        take(PiiType.CARD, _find_cards(masked))
        ssns, bad_ssns = _find_ssns(masked)
        take(PiiType.SSN, ssns)
        masked = _mask(masked, bad_ssns) if bad_ssns else masked
        take(PiiType.IP, _find_ips(masked))
        take(PiiType.PHONE, _find_phones(masked))
    # Benign URLs keep their paths, so slugs and ids in them must not read as secrets.
    take(PiiType.SECRET, _find_random_tokens(_mask(masked, benign_urls) if benign_urls else masked))
    return found, masked


def find_pii(
    text: str, expect: Expect = Expect.NOTHING, *, entities: bool = False
) -> list[PiiSpan]:
    """Every PII hit in ``text``, sorted by position; hits never overlap.

    When a round finds anything, another round runs over the text with those hits masked: a
    value glued to a removed one (``+44 20 7946 0958+44 20 7946 0959``) is only a value once its
    neighbour is gone, and redacting redacted text must find nothing new. Then the word-level
    detectors of ``winnow.pii.entities`` (names, addresses, ids, credentials) run on what is
    left when ``entities`` is true, told by ``expect`` what the previous turn asked for.
    """
    found, masked = _scan(text)
    rounds = 1
    while found and rounds < 3:
        more, masked = _scan(masked)
        if not more:
            break
        found.extend(more)
        rounds += 1
    found.sort(key=lambda s: (s.start, -s.end))
    disjoint: list[PiiSpan] = []
    for span in found:  # detectors never see masked text as a value, so this drops nothing
        if not disjoint or span.start >= disjoint[-1].end:
            disjoint.append(span)
    if entities:
        disjoint = _with_entities(masked, disjoint, expect)
    return disjoint


# Our placeholders (<NAME_1>) and template slots ({{Order Number}}) hold no personal data.
_PLACEHOLDER_TEXT = re.compile(r"<[A-Z]+(?:_\d+)?>|\{\{[^{}\n]{1,80}\}\}")


def _with_entities(masked: str, hits: list[PiiSpan], expect: Expect) -> list[PiiSpan]:
    """Add word-level hits outside pattern hits and placeholders; overlapping ones are merged."""
    # Placeholders from an earlier pass (<NAME_1>) are no names: hide them like pattern hits.
    hidden = _mask(masked, [m.span() for m in _PLACEHOLDER_TEXT.finditer(masked)])
    spans = sorted(find_entities(hidden, expect), key=lambda s: (s[0], -s[1]))
    merged: list[list[Any]] = []
    for start, end, kind in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, kind])
    out = list(hits)
    for start, end, kind in merged:
        # Split around masked characters (an e-mail inside a street line keeps its own hit).
        piece = start
        for m in re.finditer(r"\x00+", hidden[start:end]):
            if hidden[piece : start + m.start()].strip(" ,.-"):
                out.append(PiiSpan(piece, start + m.start(), kind))
            piece = start + m.end()
        if hidden[piece:end].strip(" ,.-"):
            out.append(PiiSpan(piece, end, kind))
    out.sort(key=lambda s: (s.start, -s.end))
    return out


def redact_pii(
    text: str, expect: Expect = Expect.NOTHING, *, entities: bool = False
) -> RedactionResult:
    """Replace every PII hit in ``text`` with its type's placeholder and count hits per type.

    ``entities``: also names, addresses, ids and spoken credentials (``winnow.pii.entities``).
    """
    return render(text, find_pii(text, expect, entities=entities))


def render(text: str, spans: list[PiiSpan], numbering: Numbering | None = None) -> RedactionResult:
    """``text`` with each span replaced by its placeholder (numbered when ``numbering`` is given:
    the same value gets the same ``<NAME_1>`` throughout one conversation)."""
    if not spans:
        return RedactionResult(text)
    parts: list[str] = []
    pos = 0
    for span in spans:
        if span.end <= pos:  # inside the previous hit (cannot happen; never re-emit text)
            continue
        parts.append(text[pos : span.start])
        if numbering is not None:
            parts.append(numbering.placeholder(span.type, text[span.start : span.end]))
        else:
            parts.append(PLACEHOLDERS[span.type])
        pos = max(pos, span.end)
    parts.append(text[pos:])
    return RedactionResult("".join(parts), dict(Counter(s.type for s in spans)))


# The record types moved to winnow.pii.types; they stay importable from here.
__all__ = [
    "PLACEHOLDERS",
    "PiiSpan",
    "PiiType",
    "RedactionResult",
    "find_pii",
    "redact_pii",
    "render",
]
